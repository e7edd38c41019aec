// Small DOM helpers shared by the pages.
import { ApiError } from "./api.js";

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error instanceof ApiError ? `The server said: ${error.detail}` : `Something went wrong: ${error.message}`;
  box.hidden = false;
}

function clearError() {
  document.getElementById("error").hidden = true;
}

// Run an async action, reporting any failure in the page (never only in the console).
export async function guarded(action) {
  try {
    const result = await action();
    clearError();
    return result;
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
    return undefined;
  }
}

// Have the browser save a blob (a CSV, a PNG, a GIF) as `filename`.
export function saveBlob(blob, filename) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}

export function digitImage(src, alt, small = false) {
  const img = document.createElement("img");
  img.className = small ? "digit small" : "digit";
  img.src = src;
  img.alt = alt;
  return img;
}

export function figure(img, caption) {
  const fig = document.createElement("figure");
  const text = document.createElement("figcaption");
  text.textContent = caption;
  fig.append(img, text);
  return fig;
}

// Calls `task(value, signal)` for the latest value only: at most one call in flight, at most one per
// animation frame; a newer value aborts nothing but replaces any value still waiting.
export function latestOnly(task) {
  let pending = null;
  let running = false;
  let scheduled = false;
  const pump = async () => {
    scheduled = false;
    if (running || pending === null) return;
    const value = pending;
    pending = null;
    running = true;
    try {
      await task(value);
    } finally {
      running = false;
      if (pending !== null) schedule();
    }
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(pump);
    }
  };
  return (value) => {
    pending = value;
    schedule();
  };
}

// The data set of the model chosen in a model picker (templates/_model_select.html carries them all).
export function chosenDataset(select) {
  const datasets = JSON.parse(select.dataset.datasets);
  return datasets[select.selectedOptions[0].dataset.dataset];
}

// What the chosen model was trained on, from its picker option (templates/_model_select.html): the objective
// it maximised (iwaeK > 1: the IWAE bound), its data and epochs; null for a model built by the user's own code.
export function trainedOn(select) {
  const option = select.selectedOptions[0];
  if (!option || option.dataset.origin !== "checkpoint") return null;
  const { objective, iwaeK, binarized, epochs, likelihood } = option.dataset;
  const binary = binarized === "true";
  const data = binary ? "binarized images (the test set binarized once, seed 0)" : "pixel intensities";
  return {
    objective,
    iwaeK: Number(iwaeK),
    binarized: binary,
    text: `Trained to maximise: ${objective} with p(x|z): ${likelihood}, on ${data}, for ${epochs} epochs.`,
  };
}
