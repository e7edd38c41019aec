// Per-point values on the explorer's map: colour the points by an image's log p(x), ELBO, reconstruction
// error, KL or posterior entropy (computed on the server in the background the first time, with its
// progress shown), or on a set of known factors (sprites) by any factor; a histogram of each whose brushed
// range filters the map; the filters compose with the class filter (which hides traces) and the selection
// (which keeps its points).
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { view } from "./explorer-map.js";
import { classColors, classTraceIndices, traceLabel } from "./map-traces.js";
import { colourUpdate, filteredUpdate, histogramFigure, passing } from "./metric-figures.js";
import { guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;
const FACTOR = "factor:"; // the colour choices and histograms that are a known factor's
// key: the model and split the metrics are of; body: the /point-metrics response; ranges: name -> [low, high].
const state = { key: null, body: null, ranges: {} };
const shownKey = () => `${view.model}:${view.split}`;

function classTraces() {
  const indices = classTraceIndices(view.graph);
  return { indices, traces: indices.map((i) => view.graph.data[i]) };
}

// Every per-point value the map has: name -> { title, values, unit, names }: the metrics once loaded, then
// the factors (their values are indices; names: what the data set calls each value).
function columns() {
  const found = {};
  if (state.key === shownKey()) {
    for (const { name, title } of state.body.metrics) found[name] = { title, values: state.body.values[name], unit: "nats" };
  }
  const named = Object.fromEntries((view.dataset.factors ?? []).map((factor) => [factor.name, factor.values]));
  for (const [name, values] of Object.entries(view.map.factors ?? {})) {
    found[FACTOR + name] = { title: name, values, unit: "", names: named[name] }; // the ticks say it
  }
  return found;
}

// The metrics of the map shown, computed first if need be (its progress beside the choice).
async function loaded() {
  const key = shownKey();
  if (state.key === key) return;
  const { model, split } = view;
  let progress = await api.startPointMetrics(model, split);
  while (progress.state === "computing") {
    $("metrics-status").textContent = `${progress.stage} (${Math.round(progress.seconds)} s; once, then cached)`;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    progress = await api.pointMetricsProgress(model, split);
  }
  $("metrics-status").textContent = progress.state === "failed" ? `could not compute them: ${progress.error}` : "";
  if (progress.state !== "ready" || shownKey() !== key) return;
  Object.assign(state, { key, body: await api.getPointMetrics(model, split), ranges: {} });
}

function applyColour() {
  const { indices, traces } = classTraces();
  const name = $("colour-by").value;
  const colours = classColors(view.map.class_names.length);
  const metric = columns()[name] ?? null;
  Plotly.restyle(view.graph, colourUpdate(traces, metric, traces.map((t) => colours[traceLabel(t)])), indices);
}

function applyFilter() {
  const { indices, traces } = classTraces();
  const count = view.map.x.length;
  const values = Object.fromEntries(Object.entries(columns()).map(([name, column]) => [name, column.values]));
  const shown = passing(values, state.ranges, count);
  Plotly.restyle(view.graph, filteredUpdate(view.map, traces, shown), indices);
  const kept = shown.reduce((sum, one) => sum + one, 0);
  $("metrics-count").textContent = Object.keys(state.ranges).length ? `${kept.toLocaleString()} of ${count.toLocaleString()} points in the brushed ranges` : "";
  $("clear-ranges").hidden = !Object.keys(state.ranges).length;
}

// A factor's histogram is made here (the metrics' are the page's), after the metrics'.
function histogramElement(name, title) {
  let element = $(`histogram-${name}`);
  if (!element) {
    element = Object.assign(document.createElement("div"), { id: `histogram-${name}`, className: "histogram" });
    element.setAttribute("role", "figure");
    element.setAttribute("aria-label", `histogram of ${title}`);
    $("metric-panel").querySelector(".histograms").append(element);
  }
  return element;
}

function drawHistogram(name, column) {
  const element = histogramElement(name, column.title);
  const { data, layout } = histogramFigure(column, state.ranges[name] ?? null);
  Plotly.react(element, data, layout, { displayModeBar: false, responsive: true });
  if (element.dataset.wired) return;
  element.dataset.wired = "true";
  element.on("plotly_selected", (event) => {
    if (!event?.range) return;
    state.ranges[name] = event.range.x;
    drawHistogram(name, column);
    applyFilter();
  });
  element.on("plotly_deselect", () => {
    delete state.ranges[name];
    drawHistogram(name, column);
    applyFilter();
  });
}

function showMetrics() {
  const shown = columns();
  $("metric-panel").hidden = Object.keys(shown).length === 0;
  for (const [name, { title }] of Object.entries(shown)) histogramElement(name, title); // laid out, then drawn
  for (const element of $("metric-panel").querySelectorAll(".histogram")) {
    element.hidden = !(element.id.slice("histogram-".length) in shown); // metrics not loaded yet take no room
  }
  for (const [name, column] of Object.entries(shown)) drawHistogram(name, column);
  applyColour();
  applyFilter();
}

async function chooseColour() {
  const name = $("colour-by").value;
  if (name !== "class" && !name.startsWith(FACTOR)) await loaded();
  showMetrics();
}

// The colour choices of the map shown: its data set's factors after the class, before the metrics.
function offerFactors(map) {
  const choice = $("colour-by");
  for (const option of [...choice.options]) if (option.value.startsWith(FACTOR)) option.remove();
  const factors = Object.keys(map.factors ?? {}).map((name) => new Option(`factor: ${name}`, FACTOR + name));
  choice.options[0].after(...factors);
  for (const element of document.querySelectorAll(`[id^="histogram-${FACTOR}"]`)) element.remove();
}

export function init() {
  $("colour-by").addEventListener("change", () => guarded(chooseColour));
  $("clear-ranges").addEventListener("click", () => {
    state.ranges = {};
    showMetrics();
  });
  listen(EVENTS.mapShown, ({ map }) => {
    const chosen = $("colour-by").value;
    offerFactors(map);
    if ([...$("colour-by").options].some((option) => option.value === chosen)) $("colour-by").value = chosen;
    if (map.density) $("colour-by").value = "class"; // a map drawn as density has no points to colour
    if (state.key === shownKey()) return showMetrics(); // the same points on another plane
    state.ranges = {};
    $("metric-panel").hidden = true;
    if ($("colour-by").value !== "class") guarded(chooseColour);
  });
}
