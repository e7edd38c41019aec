// The lab's disentanglement panel, for a model of a data set of known factors (sprites): its scores with
// their spread over seeds, the factor x latent matrix whose cells open the latent's page, and the sweep of
// the data set's models (each score against beta and against reconstruction). Scoring runs on the server
// in the background, one model at a time; the panel follows its progress.
import * as api from "./api.js";
import { PLOT_CONFIG } from "./map-traces.js";
import { informationFigure, scoreRows, sweepFigures, sweepStatus } from "./disentanglement-figures.js";
import { chosenDataset, guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const state = { model: null, dataset: null, sweep: null, following: false };
const sleep = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));

// Clicks on a figure, bound once per plot (Plotly gives a div its `on` when it first draws it; purge unbinds).
function onClick(element, handler) {
  if (element.dataset.clickable) return;
  element.on("plotly_click", (event) => event.points[0] && handler(event.points[0]));
  element.dataset.clickable = "true";
}
// A cell of the matrix opens its latent's page; a model of the sweep opens the lab on it.
const openLatent = ({ customdata: dim }) =>
  location.assign(`${api.ROOT}/latent?${new URLSearchParams({ model: state.model, dim })}`);
const openModel = ({ customdata: model }) => model && location.assign(`${api.ROOT}/lab?model=${encodeURIComponent(model)}`);

async function showScores(result) {
  const rows = scoreRows(result).map((score) => {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.textContent = score.title;
    name.title = score.description;
    const value = document.createElement("td");
    value.textContent = score.value;
    value.dataset.key = score.name;
    const spread = document.createElement("td");
    spread.textContent = score.spread;
    row.append(name, value, spread);
    return row;
  });
  const head = document.createElement("tr");
  for (const text of ["score", "this model", "mean ± SE over the seeds of its recipe"]) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = text;
    head.append(cell);
  }
  head.lastChild.title = `the models trained as this one but for the seed, scored: ${result.seed_models.join(", ")}`;
  $("scores").replaceChildren(head, ...rows);
  const figure = informationFigure(result);
  await Plotly.react($("information-matrix"), figure.data, figure.layout, PLOT_CONFIG);
  onClick($("information-matrix"), openLatent);
}

function clearScores(status) {
  $("scores").replaceChildren();
  Plotly.purge($("information-matrix"));
  delete $("information-matrix").dataset.clickable;
  $("score-status").textContent = status;
}

// Wait for the model's scores (its progress beside the button), then show them if it is still the chosen one.
async function follow(model, progress) {
  while (progress.state === "computing") {
    if (model === state.model) $("score-status").textContent = `scoring: ${progress.stage}, ${Math.round(100 * progress.fraction)}% done`;
    await sleep();
    progress = await api.disentanglementProgress(model);
  }
  if (model !== state.model) return;
  if (progress.state === "failed") {
    clearScores(`could not score it: ${progress.error}`);
    return;
  }
  if (progress.state !== "ready") {
    clearScores("not scored yet: about a minute on two cores, then cached");
    return;
  }
  $("score-status").textContent = "";
  await showScores(await api.getDisentanglement(model));
}

async function drawSweep() {
  const metric = $("sweep-metric").value;
  const figures = sweepFigures(state.sweep, metric);
  $("sweep-status").textContent = sweepStatus(state.sweep);
  await Plotly.react($("metric-beta"), figures.byBeta.data, figures.byBeta.layout, PLOT_CONFIG);
  await Plotly.react($("metric-reconstruction"), figures.byReconstruction.data, figures.byReconstruction.layout, PLOT_CONFIG);
  for (const id of ["metric-beta", "metric-reconstruction"]) onClick($(id), openModel);
}

// The data set's sweep, again every second while any of its models is being scored; the chosen model's
// spread over its seeds is shown again as more of them are scored.
async function followSweep(dataset) {
  if (state.following) return;
  state.following = true;
  const scored = () => state.sweep.models.filter((m) => m.state === "ready").length;
  try {
    do {
      const before = state.sweep ? scored() : 0;
      state.sweep = await api.getDisentanglementSweep(dataset);
      if (dataset !== state.dataset) return;
      await drawSweep();
      const chosen = state.sweep.models.find((m) => m.model_id === state.model);
      if (scored() !== before && chosen?.state === "ready") await showScores(await api.getDisentanglement(state.model));
      if (!state.sweep.models.some((m) => m.state === "computing")) return;
      await sleep();
    } while (dataset === state.dataset);
  } finally {
    state.following = false;
  }
}

function fillMetricChoice(metrics) {
  if ($("sweep-metric").options.length) return;
  $("sweep-metric").replaceChildren(...metrics.map(({ name, title }) => new Option(title, name)));
}

// Show the panel for `model` (hidden unless its data set's factors are known).
export async function showDisentanglement(model) {
  const dataset = chosenDataset($("model"));
  $("disentanglement-panel").hidden = !dataset.factors.length;
  Object.assign(state, { model, dataset: dataset.factors.length ? dataset.key : null });
  if (!state.dataset) return;
  const [progress, sweep] = await Promise.all([api.disentanglementProgress(model), api.getDisentanglementSweep(state.dataset)]);
  fillMetricChoice(sweep.metrics);
  state.sweep = sweep;
  await drawSweep();
  // Scoring under way is followed in the background: the page is ready meanwhile.
  const followed = follow(model, progress);
  if (progress.state !== "computing") await followed;
  else guarded(() => followed);
  if (sweep.models.some((m) => m.state === "computing")) guarded(() => followSweep(state.dataset));
}

async function scoreModel() {
  const model = state.model;
  $("score").disabled = true;
  try {
    const following = follow(model, await api.startDisentanglement(model));
    await Promise.all([following, followSweep(state.dataset)]);
  } finally {
    $("score").disabled = false;
  }
}

async function scoreSweep() {
  $("score-sweep").disabled = true;
  try {
    const model = state.model;
    state.sweep = await api.scoreDisentanglementSweep(state.dataset);
    await Promise.all([followSweep(state.dataset), follow(model, await api.disentanglementProgress(model))]);
  } finally {
    $("score-sweep").disabled = false;
  }
}

export function initDisentanglement() {
  $("score").addEventListener("click", () => guarded(scoreModel));
  $("score-sweep").addEventListener("click", () => guarded(scoreSweep));
  $("sweep-metric").addEventListener("change", () => guarded(drawSweep));
}
