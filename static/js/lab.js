// The lab page: training curves, the map's evolution, the beta sweep, estimator variances, evaluation.
import * as api from "./api.js";
import { PLOT_CONFIG, mapLayout, mapTraces, robustRange } from "./map-traces.js";
import {
  RATE_DISTORTION_LAYOUT, collapseWarning, curvesFigure, estimatorFigure, evolutionFigure, rateDistortionTraces,
} from "./lab-figures.js";
import { chosenDataset, guarded, latestOnly, trainedOn } from "./ui.js";
import { initDisentanglement, showDisentanglement } from "./disentanglement.js";
import { EVENTS, emit, listen } from "./events.js";

const $ = (id) => document.getElementById(id);
const ESTIMATOR_SAMPLES = [1, 10, 100, 1000];
// The model the URL names (?model=, as a link from the explorer carries it), when the picker has it.
const asked = new URLSearchParams(location.search).get("model");
if (asked && [...$("model").options].some((option) => option.value === asked)) $("model").value = asked;
const state = { model: $("model").value, sweep: [], sweepIds: [] };

// The chosen model into the URL, so a reload or a shared link opens the lab on it.
function keepInUrl(model) {
  const params = new URLSearchParams(location.search);
  params.set("model", model);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

// --- training curves and the map's evolution -------------------------------------------------------
async function loadTraining(model) {
  // A model built by the user's own code has no training record: say so instead of plotting nothing.
  const trainedHere = $("model").selectedOptions[0]?.dataset.origin === "checkpoint";
  for (const note of document.querySelectorAll(".no-record")) note.hidden = trainedHere;
  for (const plot of [$("curves"), $("evolution")]) plot.hidden = !trainedHere;
  if (!trainedHere) {
    $("curves-warning").hidden = true;
    Plotly.purge($("curves"));
    Plotly.purge($("evolution"));
    $("evolution").dataset.model = model;
    return;
  }
  const [history, snapshots] = await Promise.all([api.getHistory(model), api.getSnapshots(model)]);
  const curves = curvesFigure(history, { stacked: $("curves").clientWidth < 600 });
  await Plotly.react($("curves"), curves.data, curves.layout, PLOT_CONFIG);
  const warning = collapseWarning(history.epochs);
  $("curves-warning").textContent = warning;
  $("curves-warning").hidden = !warning;
  const evolution = evolutionFigure(snapshots, chosenDataset($("model")).class_names);
  // Frames are replaced whole: react would keep the previous model's frames.
  Plotly.purge($("evolution"));
  await Plotly.newPlot($("evolution"), { ...evolution, config: PLOT_CONFIG });
  $("evolution").dataset.epochs = String(snapshots.epochs.length);
  $("evolution").dataset.model = model;
}

// --- what the model was trained on ------------------------------------------------------------------
// The estimators below measure the ELBO's gradient; a model trained on the IWAE bound is told apart.
function showTrainedOn() {
  const trained = trainedOn($("model"));
  $("trained-on").textContent = trained ? trained.text : "Built by your own code: no training record.";
  $("estimator-bound").textContent = !trained
    ? "The estimators measure the gradient of the ELBO (one sample of z per estimate)."
    : trained.iwaeK > 1
      ? `This model was trained on the IWAE bound with k = ${trained.iwaeK}, whose gradient weighs k samples by ` +
        "their importance weights; the estimators here are the ELBO's (k = 1), the bound's one-sample case."
      : `This model was trained on: ${trained.objective}; the estimators measure the ELBO's gradient.`;
}

// --- evaluation table --------------------------------------------------------------------------------
// The rows come from the server's one list of evaluation figures: key, label, description, format.
const EVALUATION_ROWS = JSON.parse($("evaluation").dataset.rows);
const formatValue = (value, { decimals, percent }) =>
  percent ? `${(100 * value).toFixed(decimals)}%` : value.toFixed(decimals);
const formatFigure = (value, row) =>
  Array.isArray(value) ? value.map((v) => formatValue(v, row)).join(" ") : formatValue(value, row);
// "value ± standard error" where the figure has one (model/evaluation.py's FigureRow.shown, as the CLI).
const shownFigure = (result, row) => {
  const error = row.error === null ? null : result[row.error];
  const value = formatFigure(result[row.key], row);
  return error === null || error === undefined ? value : `${value} ± ${formatValue(error, row)}`;
};

function showEvaluation(result) {
  // A figure the model has none of (exact log p(x) beyond two dimensions) is null: no row.
  const rows = EVALUATION_ROWS.filter((figure) => result[figure.key] !== null).map((figure) => {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    if (figure.part) name.className = "part";
    name.textContent = figure.label.replace(/\{(\w+)\}/g, (_, key) => result[key]);
    name.title = figure.description;
    const value = document.createElement("td");
    value.textContent = shownFigure(result, figure);
    value.dataset.key = figure.key;
    row.append(name, value);
    return row;
  });
  $("evaluation").replaceChildren(...rows);
  const binarized = trainedOn($("model"))?.binarized;
  $("evaluation-status").textContent =
    `${result.test_images} ${binarized ? "binarized " : ""}test images scored by p(x|z): ${result.likelihood}; ` +
    `computed in ${result.seconds.toFixed(0)} s`;
}

async function loadCachedEvaluation(model) {
  $("evaluation").replaceChildren();
  const cached = await api.getEvaluation(model, false);
  if (cached) showEvaluation(cached);
  else $("evaluation-status").textContent = "not evaluated yet: a minute or two on a CPU, then cached";
}

async function evaluate() {
  const model = state.model;
  $("evaluate").disabled = true;
  $("cancel-evaluation").hidden = false;
  $("evaluation-status").textContent = "computing…";
  const stopFollowing = api.followEvaluation(model, ({ stage, fraction }) => {
    if (model === state.model) $("evaluation-status").textContent = `computing: ${stage}, ${Math.round(100 * fraction)}% done`;
  });
  try {
    const result = await api.getEvaluation(model, true);
    if (model === state.model) showEvaluation(result);
  } finally {
    stopFollowing();
    $("evaluate").disabled = false;
    $("cancel-evaluation").hidden = true;
  }
}

// --- estimator variances -----------------------------------------------------------------------------
async function measureEstimators() {
  const model = state.model;
  $("measure").disabled = true;
  $("estimator-ratio").textContent = "measuring…";
  try {
    const result = await api.getEstimators(model, ESTIMATOR_SAMPLES);
    if (model !== state.model) return;
    const figure = estimatorFigure(result);
    await Plotly.react($("estimators"), figure.data, figure.layout, PLOT_CONFIG);
    const ratios = result.samples.map((s, i) => {
      const ratio = result.score_encoder_variance[i] / result.reparam_encoder_variance[i];
      return `${Math.round(ratio).toLocaleString("en")}× at S = ${s}`;
    });
    $("estimator-ratio").textContent = `score / reparametrization variance, encoder weights: ${ratios.join(", ")}`;
  } finally {
    $("measure").disabled = false;
  }
}

function clearEstimators() {
  Plotly.purge($("estimators"));
  $("estimator-ratio").textContent = "press Measure (a few seconds)";
}

// --- the beta sweep ----------------------------------------------------------------------------------
const showSweepModel = latestOnly((position) =>
  guarded(async () => {
    const point = state.sweep[position];
    $("beta-value").textContent = point.beta === null ? "KL only" : `β = ${point.beta} (${point.model_id})`;
    const map = await api.getMap(point.model_id, { limit: 3000 });
    const layout = {
      ...mapLayout({ xRange: robustRange(map.x), yRange: robustRange(map.y), legend: false }),
      uirevision: point.model_id,
    };
    await Plotly.react($("sweep-map"), mapTraces(map, { markerSize: 3, showlegend: false }), layout, PLOT_CONFIG);
    await Plotly.react($("rate-distortion"), rateDistortionTraces(state.sweep, point), RATE_DISTORTION_LAYOUT, PLOT_CONFIG);
    $("sweep-map").dataset.model = point.model_id;
  }),
);

async function loadSweep() {
  const sweep = await api.getSweep();
  state.sweep = sweep.points.filter((p) => p.trained && !p.left_out);
  state.sweepIds = sweep.points.map((p) => p.model_id);
  const missing = sweep.points.filter((p) => !p.trained).map((p) => p.model_id);
  const leftOut = sweep.points.filter((p) => p.left_out).map((p) => `${p.model_id} (${p.left_out})`);
  $("sweep-missing").hidden = missing.length === 0 && leftOut.length === 0;
  const command = document.createElement("code");
  command.textContent = sweep.command;
  const train = document.createElement("button");
  train.type = "button";
  train.id = "train-sweep";
  train.textContent = "Train the missing models";
  train.addEventListener("click", () =>
    guarded(async () => {
      const queued = await api.submitZoo("beta");
      train.disabled = true;
      train.textContent = queued.length ? `Queued ${queued.length}: the curve fills in as each is done` : "Already queued";
      emit(EVENTS.refresh);
    }),
  );
  const notTrained = missing.length
    ? [`Not trained yet: ${missing.join(", ")}. `, train, " (a few minutes on 2 cores), or run ", command, ". "]
    : [];
  const notComparable = leftOut.length ? [`Off the curve, their nats not comparable: ${leftOut.join(", ")}.`] : [];
  $("sweep-missing").replaceChildren(...notTrained, ...notComparable);
  if (state.sweep.length === 0) return;
  const slider = $("beta");
  slider.max = String(state.sweep.length - 1);
  slider.value = String(Math.max(0, state.sweep.findIndex((p) => p.model_id === "full-2d")));
  showSweepModel(Number(slider.value));
}

// --- controls ----------------------------------------------------------------------------------------
async function loadModel(model) {
  state.model = model;
  keepInUrl(model);
  showTrainedOn();
  clearEstimators();
  await Promise.all([loadTraining(model), loadCachedEvaluation(model), showDisentanglement(model)]);
}

$("model").addEventListener("change", (event) => guarded(() => loadModel(event.target.value)));
$("beta").addEventListener("input", (event) => showSweepModel(Number(event.target.value)));
$("measure").addEventListener("click", () => guarded(measureEstimators));
$("evaluate").addEventListener("click", () => guarded(evaluate));
$("cancel-evaluation").addEventListener("click", () => guarded(() => api.cancelEvaluation(state.model)));
initDisentanglement();

// A model just trained: the first one opens the lab; a sweep model joins the curve.
listen(EVENTS.model, ({ model: { id } }) => {
  if (!state.model) {
    $("model").value = id;
    guarded(() => loadModel(id));
  }
  if (state.sweepIds.includes(id)) guarded(loadSweep);
});

window.addEventListener("load", () =>
  guarded(async () => {
    await Promise.all([state.model ? loadModel(state.model) : null, loadSweep()]);
    document.body.dataset.ready = "true";
  }),
);
