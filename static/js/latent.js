// The page of one latent dimension: its KL over the test images, the images at its two ends, its
// correlation with each class, and its traversal around the prior mean and clamped on an image. The URL
// keeps the model, the dimension and the image (?model=&dim=&index=), so the explorer can link here.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { correlationFigure, dimensionLabel, factorFigure, klHistogramFigure, summaryText } from "./latent-figures.js";
import { PLOT_CONFIG } from "./map-traces.js";
import { digitImage, figure, guarded, latestOnly } from "./ui.js";

const $ = (id) => document.getElementById(id);
const STEPS = 9;
const MAX_LISTED = 256; // dimensions in the picker (a spatial latent has thousands; ?dim= reaches any)
const params = new URLSearchParams(location.search);
if ([...$("model").options].some((option) => option.value === params.get("model"))) $("model").value = params.get("model");
// The clamped image: as the API names it, in words, and its picture (its data set's, or the upload as seen).
const state = { model: $("model").value, dim: Number(params.get("dim") ?? NaN), centre: null, label: "", source: () => "" };

function keepInUrl() {
  const next = new URLSearchParams({ model: state.model, dim: state.dim });
  if (state.centre?.index !== undefined) next.set("index", state.centre.index);
  history.replaceState(null, "", `${location.pathname}?${next}`);
  $("to-explorer").href = `${api.ROOT}/?${new URLSearchParams({ model: state.model })}`;
}

const caption = (offset) => `${offset > 0 ? "+" : ""}${Number(offset.toFixed(2))}`;

// One traversal row of the dimension around `centre` (null: the prior mean) into `strip`, after `first`
// (a figure, or nothing); an image's own value (the centre, the middle step) is marked.
async function drawStrip(strip, centre, first = null) {
  const body = { dims: [state.dim], steps: STEPS, ...(centre ? { centre } : {}) };
  const result = await api.getTraversal(state.model, body);
  const [row] = result.rows;
  const centreValue = result.centre[state.dim];
  const own = centre ? result.offsets.indexOf(0) : -1; // STEPS is odd: the middle offset is 0
  const steps = row.images.map((src, i) => {
    const value = centreValue + result.offsets[i];
    const fig = figure(digitImage(src, `${row.name} = ${value.toFixed(2)}`, true), `${caption(value)}${i === own ? " (its own)" : ""}`);
    if (i === own) fig.className = "own";
    return fig;
  });
  strip.replaceChildren(...(first ? [first] : []), ...steps);
}

const drawClamped = latestOnly(() =>
  guarded(async () => {
    $("clamp-status").textContent = `around ${state.label}`;
    const original = figure(digitImage(state.source(), state.label, true), "the image");
    await drawStrip($("clamp-strip"), state.centre, original);
    $("clamp-strip").dataset.dim = String(state.dim);
  }),
);

function extremes(element, images, dataset) {
  element.replaceChildren(...images.map(({ index, value }) =>
    figure(digitImage(api.imageUrl(dataset, index), `test image ${index}`, true), `#${index}: ${value.toFixed(2)}`)));
}

const drawDimension = latestOnly(() =>
  guarded(async () => {
    keepInUrl();
    const profile = await api.getDimensionProfile(state.model, state.dim);
    const latentDim = $("dim").dataset.latentDim;
    $("dim-summary").textContent = summaryText(profile, Number(latentDim));
    const histogram = klHistogramFigure(profile);
    await Plotly.react($("kl-histogram"), histogram.data, histogram.layout, PLOT_CONFIG);
    // A set of known factors shows the dimension against each (its class is one of them); others, classes.
    const factored = profile.factor_information.length > 0;
    const labelled = profile.class_correlation.length > 0;
    $("factor-panel").hidden = !factored;
    $("class-panel").hidden = factored;
    $("no-classes").hidden = labelled;
    $("correlation").hidden = !labelled;
    const [target, figure] = factored ? ["factor-information", factorFigure(profile)] : ["correlation", correlationFigure(profile)];
    if (factored || labelled) await Plotly.react($(target), figure.data, figure.layout, PLOT_CONFIG);
    extremes($("highest"), profile.highest, profile.dataset);
    extremes($("lowest"), profile.lowest, profile.dataset);
    await drawStrip($("prior-strip"), null);
    drawClamped(true);
    document.body.dataset.dim = String(state.dim);
  }),
);

// The model's dimensions into the picker (by KL), then its chosen (or first) dimension drawn.
async function loadModel() {
  const { dimensions, latent_dim } = await api.getDimensions(state.model);
  $("dim").dataset.latentDim = String(latent_dim);
  const listed = dimensions.slice(0, MAX_LISTED);
  if (!(state.dim >= 0 && state.dim < latent_dim)) state.dim = dimensions[0].dim;
  if (!listed.some((d) => d.dim === state.dim)) listed.push(dimensions.find((d) => d.dim === state.dim));
  $("dim").replaceChildren(...listed.map((d) => new Option(dimensionLabel(d), d.dim)));
  $("dim").value = String(state.dim);
  drawDimension(true);
}

function clampOnIndex() {
  const index = Number($("clamp-index").value);
  state.centre = { index };
  state.label = `test image ${index}`;
  state.source = () => api.imageUrl($("model").selectedOptions[0].dataset.dataset, index);
}

$("model").addEventListener("change", () => {
  state.model = $("model").value;
  state.dim = NaN;
  guarded(loadModel);
});
$("dim").addEventListener("change", () => {
  state.dim = Number($("dim").value);
  drawDimension(true);
});
$("clamp-index").addEventListener("change", () => {
  clampOnIndex();
  keepInUrl();
  drawClamped(true);
});
$("clamp-upload").addEventListener("change", () =>
  guarded(async () => {
    const file = $("clamp-upload").files[0];
    if (!file) return;
    const encoded = await api.encodeImage(state.model, file);
    state.centre = { image: encoded.input };
    state.label = `your image (${file.name})`;
    state.source = () => encoded.input;
    keepInUrl();
    drawClamped(true);
  }),
);
if (params.has("index")) $("clamp-index").value = params.get("index");
clampOnIndex();
if (state.model) {
  guarded(loadModel);
} else {
  // A first run: no model is served yet; the first one a job finishes opens here.
  $("dim-summary").textContent = "No model is served yet: the first one appears here when it is trained.";
  const stop = listen(EVENTS.model, ({ model: { id } }) => {
    stop();
    $("model").value = id;
    state.model = id;
    guarded(loadModel);
  });
}
