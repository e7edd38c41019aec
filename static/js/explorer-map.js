// The explorer's map: it owns the graph and its state (the model, its map, the split shown, the point
// under the cursor, the drawings and path drawn over it) and the view kept in the URL. Other modules read
// `view` and listen to EVENTS.mapShown, viewMoved and pointClicked.
import * as api from "./api.js";
import { encodeSplit } from "./density.js";
import { EVENTS, emit } from "./events.js";
import {
  LEGEND_LIMIT, PLOT_CONFIG, axisTitles, classTraceIndices, classVisibility, imageOf, isClassTrace, mapLayout, mapTraces, restyleUpdate,
  robustRange, traceIndex, traceLabel, viewRange,
} from "./map-traces.js";
import { DRAWINGS_TRACE, drawingOf, drawingsTrace, ellipseShapes } from "./overlay-traces.js";
import { chosenDataset, guarded } from "./ui.js";
import { readView, writeView } from "./view-state.js";

const $ = (id) => document.getElementById(id);
export const SPLIT_NAMES = { test: "test", train: "training" };
const DRAG_MODES = { zoom: "zoom", interpolate: false, box: "select", lasso: "lasso" }; // Plotly's dragmode

// What the map shows. graph: the element; map: the /map response; plane: "pca", "umap" or "tsne" (planes.js
// sets it); hovered: the point under the cursor ({ x, y, position }) or null; drawings: encoded images'
// markers; line: the path's shape or null.
// region: on a map drawn as density, the labels of the points drawn in the view (position -> label).
export const view = {
  graph: null, model: null, dataset: null, map: null, split: "test", plane: "pca", hovered: null, drawings: [], line: null,
  region: new Map(),
};
const parts = {}; // what else the URL keeps, read from the modules that own it: name -> () => value

export const mode = () => document.querySelector("input[name=mode]:checked").value;
export const limit = () => view.map.coordinate_limit; // the server decodes |x|, |y| up to this
export const inRange = (p) => Math.abs(p.x) <= limit() && Math.abs(p.y) <= limit();

// A map point's class label (of a map drawn as density: a point drawn in the view).
export const labelOf = (position) => view.map.label[position] ?? view.region.get(position);

// A map point (its position) as the API names an image: { index, split }.
export function specOf(position) {
  const { split, index } = imageOf(view.map, position);
  return { index, split };
}

// `read()` gives the URL's `name` part (pins, path, selection) whenever the view is saved.
export function keepInView(name, read) {
  parts[name] = read;
}

// The view into the URL (a reload or a shared link restores it).
export function saveView() {
  const saved = {
    model: view.model, points: view.split, plane: view.plane, ranges: viewRange(view.graph), pins: parts.pins?.() ?? [],
    path: parts.path?.() ?? null, selection: parts.selection?.() ?? [],
  };
  writeView(saved);
  emit(EVENTS.viewSaved, saved);
}

// What depends on the data set: whether drawing fits it, its note, the class filter for many classes.
function showDataset(dataset) {
  $("draw-panel").hidden = !dataset.drawable;
  $("dataset-note").textContent = dataset.note;
  $("class-filter-row").hidden = dataset.class_names.length <= LEGEND_LIMIT;
  $("class-filter").value = "";
  const figure5 = ["@", "9", "a"]; // the tutorial's path, where the data set has those classes
  const examples = figure5.every((name) => dataset.class_names.includes(name)) ? figure5 : dataset.class_names.slice(0, 3);
  $("path-labels").placeholder = `e.g. ${examples.join(" ")}`;
}

// Draw `model`'s map of the split shown, the drawings and path cleared; then EVENTS.mapShown.
export async function loadModel(model) {
  view.model = model;
  view.dataset = chosenDataset($("model"));
  if (view.split !== "test") await encodeSplit(model, view.split);
  view.map = await api.getMap(model, { split: view.split, plane: view.plane });
  showDataset(view.dataset);
  Object.assign(view, { drawings: [], line: null, hovered: null, region: new Map() });
  const { density } = view.map;
  const [xRange, yRange] = density ? [density.bounds.slice(0, 2), density.bounds.slice(2)] : [robustRange(view.map.x), robustRange(view.map.y)];
  const layout = {
    ...mapLayout({ xRange, yRange, classNames: view.map.class_names, axes: axisTitles(view.map.plane) }),
    uirevision: model,
    dragmode: DRAG_MODES[mode()],
  };
  const config = { ...PLOT_CONFIG, toImageButtonOptions: { filename: `${model}-latent-map`, scale: 2 } };
  await Plotly.react(view.graph, [...mapTraces(view.map), drawingsTrace([])], layout, config);
  view.graph.dataset.model = model;
  view.graph.dataset.points = String(view.map.x.length);
  emit(EVENTS.mapShown, { model, map: view.map, dataset: view.dataset });
}

// The drawings' markers and ellipses and the path's line, redrawn over the points.
function redrawOverlay() {
  const shapes = ellipseShapes(view.drawings);
  if (view.line) shapes.push(view.line);
  Plotly.restyle(view.graph, restyleUpdate(drawingsTrace(view.drawings)), [traceIndex(view.graph, DRAWINGS_TRACE)]);
  Plotly.relayout(view.graph, { shapes });
}

// An encoding's marker on the map, numbered: -> the drawing ({ number, x, y, sigmaX, sigmaY }).
export function addDrawing(encoding) {
  const drawing = drawingOf(encoding, view.drawings.length + 1);
  view.drawings.push(drawing);
  redrawOverlay();
  return drawing;
}

export function setLine(shape) {
  view.line = shape;
  redrawOverlay();
}

// No drawings and no path over the points.
export function clearOverlay() {
  view.drawings = [];
  setLine(null);
}

function filterClasses() {
  const { graph } = view;
  const visible = classVisibility(view.map.class_names, $("class-filter").value);
  const indices = classTraceIndices(graph);
  Plotly.restyle(graph, { visible: indices.map((i) => visible[traceLabel(graph.data[i])]) }, indices);
}

// The split and model the page opened with (the URL's), before the first map is drawn: -> that view.
export function openedView() {
  const opened = readView();
  if (opened.model && [...$("model").options].some((option) => option.value === opened.model)) {
    $("model").value = opened.model;
  } else {
    Object.assign(opened, { ranges: null, pins: [], path: null, selection: null }); // another model's view
  }
  if (opened.points in SPLIT_NAMES || opened.points === "all") {
    view.split = opened.points;
    $("points").value = opened.points;
  }
  return opened;
}

// The controls that change what the map shows; the graph's own events once it is drawn (wireGraph).
export function init() {
  view.graph = $("map");
  view.model = $("model").value;
  $("model").addEventListener("change", (event) =>
    guarded(async () => {
      view.plane = "pca"; // another model's UMAP or t-SNE may not be computed yet
      await loadModel(event.target.value);
      saveView();
    }),
  );
  $("points").addEventListener("change", (event) =>
    guarded(async () => {
      view.split = event.target.value;
      view.plane = "pca"; // the plane of the other split may not be computed yet
      await loadModel(view.model);
      saveView();
    }),
  );
  $("class-filter").addEventListener("input", filterClasses);
  document.querySelectorAll("input[name=mode]").forEach((radio) =>
    radio.addEventListener("change", () => Plotly.relayout(view.graph, { dragmode: DRAG_MODES[mode()] })),
  );
}

// Plotly's events on the drawn graph, said as the page's.
export function wireGraph() {
  const { graph } = view;
  graph.on("plotly_hover", (event) => {
    const point = event.points.find((p) => isClassTrace(p.data));
    view.hovered = point ? { x: point.x, y: point.y, position: point.customdata } : null;
  });
  graph.on("plotly_unhover", () => (view.hovered = null));
  graph.on("plotly_click", (event) => {
    const point = event.points.find((p) => isClassTrace(p.data));
    if (point && mode() === "zoom") {
      emit(EVENTS.pointClicked, { x: point.x, y: point.y, position: point.customdata, label: traceLabel(point.data) });
    }
  });
  graph.on("plotly_relayout", (change) => {
    // Zooming says "xaxis.range[0]", a programmatic change "xaxis.range"; our own image updates say neither.
    if (Object.keys(change).some((key) => /^[xy]axis\.(range|autorange)/.test(key))) {
      emit(EVENTS.viewMoved);
      saveView();
    }
  });
}
