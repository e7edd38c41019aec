// Per-point metrics on the explorer's map: colour the points by an image's log p(x), ELBO, reconstruction
// error, KL or posterior entropy (computed on the server in the background the first time, with its
// progress shown), and a histogram of each whose brushed range filters the map; the filters compose with
// the class filter (which hides traces) and the selection (which keeps its points).
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { view } from "./explorer-map.js";
import { classColors, classTraceIndices, traceLabel } from "./map-traces.js";
import { colourUpdate, filteredUpdate, histogramFigure, passing } from "./metric-figures.js";
import { guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;
// key: the model and split the metrics are of; body: the /point-metrics response; ranges: name -> [low, high].
const state = { key: null, body: null, ranges: {} };
const shownKey = () => `${view.model}:${view.split}`;

function classTraces() {
  const indices = classTraceIndices(view.graph);
  return { indices, traces: indices.map((i) => view.graph.data[i]) };
}

const metricOf = (name) => ({ title: state.body.metrics.find((m) => m.name === name).title, values: state.body.values[name] });

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
  const metric = name === "class" || state.key !== shownKey() ? null : metricOf(name);
  Plotly.restyle(view.graph, colourUpdate(traces, metric, traces.map((t) => colours[traceLabel(t)])), indices);
}

function applyFilter() {
  const { indices, traces } = classTraces();
  const count = view.map.x.length;
  const shown = passing(state.body.values, state.ranges, count);
  Plotly.restyle(view.graph, filteredUpdate(view.map, traces, shown), indices);
  const kept = shown.reduce((sum, one) => sum + one, 0);
  $("metrics-count").textContent = Object.keys(state.ranges).length ? `${kept.toLocaleString()} of ${count.toLocaleString()} points in the brushed ranges` : "";
  $("clear-ranges").hidden = !Object.keys(state.ranges).length;
}

function drawHistogram(name) {
  const element = $(`histogram-${name}`);
  const { data, layout } = histogramFigure(metricOf(name), state.ranges[name] ?? null);
  Plotly.react(element, data, layout, { displayModeBar: false, responsive: true });
  if (element.dataset.wired) return;
  element.dataset.wired = "true";
  element.on("plotly_selected", (event) => {
    if (!event?.range) return;
    state.ranges[name] = event.range.x;
    drawHistogram(name);
    applyFilter();
  });
  element.on("plotly_deselect", () => {
    delete state.ranges[name];
    drawHistogram(name);
    applyFilter();
  });
}

function showMetrics() {
  $("metric-panel").hidden = false;
  for (const metric of state.body.metrics) drawHistogram(metric.name);
  applyColour();
  applyFilter();
}

async function chooseColour() {
  if ($("colour-by").value !== "class") await loaded();
  if (state.key === shownKey()) showMetrics();
  else applyColour();
}

export function init() {
  $("colour-by").addEventListener("change", () => guarded(chooseColour));
  $("clear-ranges").addEventListener("click", () => {
    state.ranges = {};
    showMetrics();
  });
  listen(EVENTS.mapShown, ({ map }) => {
    if (map.density) $("colour-by").value = "class"; // a map drawn as density has no points to colour
    if (state.key === shownKey()) return showMetrics(); // the same points on another plane
    $("metric-panel").hidden = true;
    if ($("colour-by").value !== "class") guarded(chooseColour);
  });
}
