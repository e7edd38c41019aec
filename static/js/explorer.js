// The explorer page: latent map, live decoding, pins, drag-to-interpolate, draw and upload.
import * as api from "./api.js";
import {
  DECISION_TRACE, DENSITY_TRACE, DRAWINGS_TRACE, LEGEND_LIMIT, PLOT_CONFIG, POSTERIOR_TRACE, classTokens, classVisibility, cursorToData, decisionTrace, drawingOf,
  densityTrace, drawingsTrace, ellipseShapes, imageOf, isClassTrace, mapLayout, mapTraces, pathShape, pixelDistance, positionOf, posteriorTrace, restyleUpdate, robustRange,
  traceIndex, traceLabel, viewRange,
} from "./map-traces.js";
import { wireHoverDecoding } from "./hover-decode.js";
import { createDrawPad, acceptImageFiles } from "./drawpad.js";
import { chosenDataset, digitImage, figure, guarded, latestOnly, saveBlob } from "./ui.js";
import { liveSnapshots } from "./job-watch.js";
import { evolutionFigure } from "./lab-figures.js";
import { loadTraversals } from "./traversal.js";
import { loadSelection, restoreSelection, selectedIndices, wireSelection } from "./selection.js";
import { readView, writeView } from "./view-state.js";
import { loadArithmetic } from "./arithmetic.js";

const SNAP_PIXELS = 14; // a drag end this close to a point snaps to it
const DWELL_MS = 350; // resting this long on a point while dragging makes it a waypoint of the path
const MAX_ENDS = 8; // start, up to six waypoints, end: what the API takes
const $ = (id) => document.getElementById(id);
const graph = $("map");

const state = {
  model: $("model").value, dataset: null, map: null, drawings: [], line: null, drag: null, pins: 0, hovered: null,
  // What the URL keeps: the split shown, pinned map positions, the strip's { ends, steps, method }.
  split: "test", pinned: [], path: null,
};
const SPLIT_NAMES = { test: "test", train: "training" };
// A map point (its position) as the API names an image: { index, split }.
const specOf = (position) => {
  const { split, index } = imageOf(state.map, position);
  return { index, split };
};

// The view into the URL (a reload or a shared link restores it).
function saveView() {
  writeView({
    model: state.model, points: state.split, ranges: viewRange(graph), pins: state.pinned, path: state.path,
    selection: selectedIndices(),
  });
}
const mode = () => document.querySelector("input[name=mode]:checked").value;
const DRAG_MODES = { zoom: "zoom", interpolate: false, box: "select", lasso: "lasso" }; // Plotly's dragmode
const dragmode = () => DRAG_MODES[mode()];
const steps = () => Number($("steps").value);
const limit = () => state.map.coordinate_limit; // the server decodes |x|, |y| up to this
const inRange = (p) => Math.abs(p.x) <= limit() && Math.abs(p.y) <= limit();

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

async function loadModel(model) {
  state.model = model;
  state.dataset = chosenDataset($("model"));
  state.map = await api.getMap(model, { split: state.split });
  showDataset(state.dataset);
  state.drawings = [];
  state.line = null;
  state.hovered = null;
  state.pinned = [];
  state.path = null;
  const layout = {
    ...mapLayout({
      xRange: robustRange(state.map.x), yRange: robustRange(state.map.y), classNames: state.map.class_names,
    }),
    uirevision: model,
    dragmode: dragmode(),
  };
  const config = { ...PLOT_CONFIG, toImageButtonOptions: { filename: `${model}-latent-map`, scale: 2 } };
  await Plotly.react(graph, [...mapTraces(state.map), drawingsTrace([])], layout, config);
  graph.dataset.model = model;
  graph.dataset.points = String(state.map.x.length);
  await showDensity();
  $("strip").replaceChildren();
  $("strip-downloads").hidden = true;
  $("encoding").replaceChildren();
  $("pins").replaceChildren();
  refreshManifold();
  refreshDecision(true);
  loadTraversals(model, state.map.projection === null);
  loadSelection(model, state.map);
  loadArithmetic(model, state.map.class_names);
  decodeUnderCursor({ x: 0, y: 0 });
  guarded(loadGallery); // below the fold: the map is interactive without waiting for it
}

// --- live decoding under the cursor ---------------------------------------------------------------
const decodeUnderCursor = wireHoverDecoding(graph, {
  image: $("hover-image"),
  coords: $("hover-coords"),
  current: () => ({ model: state.model, limit: state.map ? limit() : 0 }),
});

// The digit under the cursor, as Plotly's hover finds it (within the layout's hoverdistance).
function onHover(event) {
  const point = event.points.find((p) => isClassTrace(p.data));
  state.hovered = point ? { x: point.x, y: point.y, position: point.customdata } : null;
  if (state.drag && point) dwellOn({ x: point.x, y: point.y, position: point.customdata, spec: specOf(point.customdata) });
}

// The digit last pinned or drawn: traversals centre on it, latent arithmetic adds its vector to it.
const focusOn = (point, label) => window.dispatchEvent(new CustomEvent("atlas:focus", { detail: { point, label } }));

// --- pins ------------------------------------------------------------------------------------------
async function pin(x, y, position) {
  const { split, index } = imageOf(state.map, position);
  const url = await api.decodeAt(state.model, x, y);
  state.pins += 1;
  const images = document.createElement("div");
  images.className = "row";
  const label = state.map.class_names[state.map.label[position]];
  images.append(
    figure(digitImage(url, `decoded at ${x.toFixed(2)}, ${y.toFixed(2)}`, true), `#${state.pins} decoded`),
    figure(digitImage(api.imageUrl(state.map.dataset, index, split), `${split} image ${index}`, true), `${SPLIT_NAMES[split]} ${index}: ${label}`),
  );
  const entry = document.createElement("div");
  entry.className = "pin";
  entry.append(images);
  $("pins").prepend(entry);
  state.pinned.push(position);
  saveView();
  if (state.map.projection === null) showPosterior({ request: { index, split }, container: entry }); // 2-D
  focusOn({ index, split }, `${SPLIT_NAMES[split]} ${index} (${label})`);
}

function onPlotClick(event) {
  if (mode() !== "zoom") return;
  const point = event.points.find((p) => isClassTrace(p.data));
  if (point) guarded(() => pin(point.x, point.y, point.customdata));
}

// The strip as a file: one PNG side by side, or an animated GIF forth and back.
async function downloadStrip(format) {
  const { ends, steps: count, method } = state.path;
  const body = { start: ends[0], via: ends.slice(1, -1), end: ends.at(-1), steps: count, method };
  saveBlob(await api.interpolationFile(state.model, body, format), `${state.model}-interpolation.${format}`);
}

// --- drag to interpolate ---------------------------------------------------------------------------
// An end of the path: the hovered point when it is near the cursor, else the map point itself (the
// server lifts map points through the model's plane).
function snapped(p) {
  const near = state.hovered;
  if (!near || pixelDistance(graph, near, p) > SNAP_PIXELS) return null;
  return { x: near.x, y: near.y, position: near.position, spec: specOf(near.position) };
}
const endAt = (p, snap) => (snap && snapped(p)) || { x: p.x, y: p.y, spec: { point: [p.x, p.y] } };

// One strip through every end in order (the tutorial's Fig. 5 when the ends are @, 9 and a).
const drawStrip = latestOnly((ends) =>
  guarded(async () => {
    const specs = ends.map((end) => end.spec);
    const result = await api.interpolate(state.model, specs[0], specs.at(-1), steps(), $("method").value, specs.slice(1, -1));
    $("strip").replaceChildren(...result.images.map((src, i) => digitImage(src, `step ${i + 1}`, true)));
    $("strip").dataset.ends = String(ends.length);
    $("strip-downloads").hidden = false;
    state.path = { ends: specs, steps: steps(), method: $("method").value };
    saveView();
    if (ends[0].x === undefined) {
      // A path named by class: draw where the server's path runs on the map.
      state.line = pathShape(result.map_xy.map(([x, y]) => ({ x, y })));
      redrawOverlay();
    }
  }),
);

function updateDrag(end) {
  const ends = [...state.drag.ends, end];
  state.line = pathShape(ends);
  redrawOverlay();
  drawStrip(ends);
}

// Resting on a point mid-drag adds it as a waypoint: drag through @, 9 and a, pausing on each. Both the
// cursor's moves and Plotly's hover (which reports a point after the move that reached it) say where
// it rests; the timer restarts only when that point changes.
function dwellOn(near) {
  const drag = state.drag;
  if (near?.position === drag.candidate?.position) return;
  clearTimeout(drag.dwell);
  drag.candidate = near;
  if (!near || near.position === drag.ends.at(-1).position || drag.ends.length >= MAX_ENDS - 1) return;
  drag.dwell = setTimeout(() => {
    if (state.drag !== drag) return;
    drag.ends.push(near);
    drag.candidate = null;
    updateDrag(near);
  }, DWELL_MS);
}

graph.addEventListener(
  "mousedown",
  (event) => {
    if (mode() !== "interpolate" || event.button !== 0) return;
    const p = cursorToData(graph, event);
    if (!p || !inRange(p)) return;
    event.preventDefault();
    event.stopPropagation();
    const start = endAt(p, true);
    state.drag = { ends: [start], dwell: null, candidate: null };
  },
  true,
);
window.addEventListener("mousemove", (event) => {
  if (!state.drag) return;
  const p = cursorToData(graph, event);
  if (!p || !inRange(p)) return;
  updateDrag(endAt(p, false));
  dwellOn(snapped(p));
});
window.addEventListener("mouseup", (event) => {
  if (!state.drag) return;
  clearTimeout(state.drag.dwell);
  const p = cursorToData(graph, event);
  if (p && inRange(p)) updateDrag(endAt(p, true));
  state.drag = null;
});

// A path named by class, e.g. "@ 9 a": each class's most typical test image, in order.
function interpolateNamed() {
  const labels = classTokens(state.map.class_names, $("path-labels").value);
  if (labels.length < 2) throw new Error(`name two or more classes, ${$("path-labels").placeholder}`);
  if (labels.length > MAX_ENDS) throw new Error(`a path passes through at most ${MAX_ENDS} classes`);
  const ends = labels.map((label) => ({ spec: { label } }));
  state.line = null;
  redrawOverlay();
  drawStrip(ends);
}

// --- encode drawings and uploads -------------------------------------------------------------------
function redrawOverlay() {
  const shapes = ellipseShapes(state.drawings);
  if (state.line) shapes.push(state.line);
  Plotly.restyle(graph, restyleUpdate(drawingsTrace(state.drawings)), [traceIndex(graph, DRAWINGS_TRACE)]);
  Plotly.relayout(graph, { shapes });
}

function showEncoding(result) {
  const drawing = drawingOf(result, state.drawings.length + 1);
  state.drawings.push(drawing);
  redrawOverlay();
  const { number, x, y, sigmaX, sigmaY } = drawing;
  const names = state.map.class_names;
  const neighbors = result.neighbors.map((n) =>
    figure(
      digitImage(api.imageUrl(state.map.dataset, n.index), `test image ${n.index}`, true),
      `${names[n.label]} (${n.distance.toFixed(2)})`,
    ),
  );
  const header = document.createElement("p");
  header.className = "muted";
  header.textContent = `#${number} at (${x.toFixed(2)}, ${y.toFixed(2)}), sigma (${sigmaX.toFixed(2)}, ${sigmaY.toFixed(2)}); the dotted ellipse is 2 sigma`;
  const images = document.createElement("div");
  images.className = "row";
  images.append(
    figure(digitImage(result.input, "your image as the model sees it"), `as seen (${state.dataset.image_shape.slice(1).join("x")})`),
    figure(digitImage(result.reconstruction, "its reconstruction"), "reconstruction"),
  );
  const near = document.createElement("div");
  near.className = "row neighbors";
  near.append(...neighbors);
  $("encoding").replaceChildren(header, images, near);
  if (state.map.projection === null) showPosterior({ request: { image: result.input }, container: $("encoding") });
  focusOn({ image: result.input }, `image #${number}`);
}

// --- the true posterior of a 2-D model, by quadrature ----------------------------------------------
const nats = (value) => `${value.toFixed(2)} nats`;

function posteriorText(p) {
  return `True posterior p(z|x), the contours (by quadrature, converged to ${p.change.toFixed(3)} nats): ` +
    `log p(x) = ${nats(p.log_px)}. ELBO = ${nats(p.elbo)} (${p.elbo_samples} draws), IWAE bound (k = ${p.iwae_k}) = ` +
    `${nats(p.iwae)}. The exact gap KL(q(z|x) ‖ p(z|x)) = log p(x) − ELBO = ${nats(p.gap)}; ` +
    `IWAE recovers ${nats(p.iwae - p.elbo)} of it.`;
}

async function removePosterior() {
  const index = traceIndex(graph, POSTERIOR_TRACE);
  if (index >= 0) await Plotly.deleteTraces(graph, index);
}

// For an image (request { image }: a drawing or upload) or a test digit ({ index }: a pin) under a 2-D
// model, its note going at the end of `container`; the contours are the latest image's.
const showPosterior = latestOnly(({ request, container }) =>
  guarded(async () => {
    const model = state.model;
    const note = document.createElement("p");
    note.className = "muted posterior-note";
    note.textContent = "Computing the true posterior p(z|x) on a grid over the plane…";
    container.append(note);
    const posterior = await api.getPosterior(model, request);
    if (model !== state.model) return;
    await removePosterior();
    await Plotly.addTraces(graph, posteriorTrace(posterior));
    note.textContent = posteriorText(posterior);
    graph.dataset.posterior = posterior.log_px.toFixed(2);
  }),
);

const encodeAndShow = (image) => guarded(async () => showEncoding(await api.encodeImage(state.model, image)));
createDrawPad($("pad"), { brushInput: $("brush"), clearButton: $("clear-pad"), onStroke: encodeAndShow });
acceptImageFiles($("dropzone"), $("upload"), encodeAndShow);
$("clear-drawings").addEventListener("click", () => {
  state.drawings = [];
  state.line = null;
  redrawOverlay();
  guarded(removePosterior);
});

// --- all the digits: which split the map shows, and the density view of crowded maps ----------------
// The density view replaces the points by their counts on a grid (the legend brings a class back on top).
async function showDensity() {
  const shown = traceIndex(graph, DENSITY_TRACE);
  const on = $("density").checked;
  graph.dataset.density = String(on);
  if (!on && shown < 0) return; // nothing to undo: restyling 70,000 points costs a redraw (~0.25 s)
  if (shown >= 0) await Plotly.deleteTraces(graph, shown);
  const classes = graph.data.map((trace, i) => (isClassTrace(trace) ? i : -1)).filter((i) => i >= 0);
  await Plotly.restyle(graph, { visible: on ? "legendonly" : true }, classes);
  if (on) await Plotly.addTraces(graph, densityTrace(state.map));
}

// --- the decoded manifold under the points, and the gallery ---------------------------------------
function refreshManifold() {
  if (!$("manifold").checked) {
    Plotly.relayout(graph, { images: [] });
    return;
  }
  // A square window around the view keeps the tiles square; Plotly clips what falls outside.
  const { x: [xa, xb], y: [ya, yb] } = viewRange(graph);
  const half = Math.min(Math.max(xb - xa, yb - ya) / 2, limit());
  const clamp = (v) => Math.max(-limit(), Math.min(limit() - 2 * half, v));
  const x0 = clamp((xa + xb) / 2 - half);
  const y0 = clamp((ya + yb) / 2 - half);
  const [x1, y1] = [x0 + 2 * half, y0 + 2 * half];
  const source = api.gridUrl(state.model, { n: 24, spacing: "linear", x_range: `${x0},${x1}`, y_range: `${y0},${y1}` });
  Plotly.relayout(graph, {
    images: [{ source, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0,
      sizing: "stretch", layer: "below", opacity: 0.6, xanchor: "left", yanchor: "top" }],
  });
}

// The classifier's reading of the decoded images over the visible part of the map.
const refreshDecision = latestOnly(() =>
  guarded(async () => {
    const shown = traceIndex(graph, DECISION_TRACE);
    if (!$("decision").checked) {
      if (shown >= 0) await Plotly.deleteTraces(graph, shown);
      return;
    }
    const clamp = (v) => Math.max(-limit(), Math.min(limit(), v));
    const view = viewRange(graph);
    const [xa, xb] = view.x.map(clamp);
    const [ya, yb] = view.y.map(clamp);
    const decision = await api.getDecisionMap(state.model, { n: 48, x_range: `${xa},${xb}`, y_range: `${ya},${yb}` });
    if (decision.model_id !== state.model || !$("decision").checked) return;
    const trace = decisionTrace(decision, state.map.class_names.length);
    const index = traceIndex(graph, DECISION_TRACE);
    if (index >= 0) {
      await Plotly.restyle(graph, restyleUpdate(trace, ["x", "y", "z"]), [index]);
    } else {
      await Plotly.addTraces(graph, trace);
    }
    graph.dataset.decision = String(decision.x.length);
  }),
);

async function loadGallery() {
  $("grid").src = api.gridUrl(state.model, { n: 15 });
  const drawn = await api.samples(state.model, 16, Math.floor(Math.random() * 1e6));
  $("samples").replaceChildren(...drawn.images.map((src, i) => digitImage(src, `prior sample ${i + 1}`, true)));
}

// --- controls --------------------------------------------------------------------------------------
$("model").addEventListener("change", (event) =>
  guarded(async () => {
    await loadModel(event.target.value);
    saveView();
  }),
);
$("steps").addEventListener("input", () => ($("steps-value").textContent = $("steps").value));
$("manifold").addEventListener("change", refreshManifold);
$("density").addEventListener("change", () => guarded(showDensity));
$("points").addEventListener("change", (event) =>
  guarded(async () => {
    state.split = event.target.value;
    $("points-status").textContent = state.split === "test" ? "" : "encoding the training images (seconds, once)…";
    await loadModel(state.model);
    $("points-status").textContent = "";
    saveView();
  }),
);
$("decision").addEventListener("change", () => refreshDecision(true));
$("resample").addEventListener("click", () => guarded(loadGallery));
$("path-go").addEventListener("click", () => guarded(async () => interpolateNamed()));
$("strip-png").addEventListener("click", () => guarded(() => downloadStrip("png")));
$("strip-gif").addEventListener("click", () => guarded(() => downloadStrip("gif")));
$("class-filter").addEventListener("input", () => {
  const visible = classVisibility(state.map.class_names, $("class-filter").value);
  const indices = graph.data.map((trace, i) => (isClassTrace(trace) ? i : -1)).filter((i) => i >= 0);
  Plotly.restyle(graph, { visible: indices.map((i) => visible[traceLabel(graph.data[i])]) }, indices);
});
document.querySelectorAll("input[name=mode]").forEach((radio) =>
  radio.addEventListener("change", () => Plotly.relayout(graph, { dragmode: dragmode() })),
);

// The map of the model a job is training, drawn where the explorer's map will be until a model is served.
function showForming(event) {
  const { job, type, data } = event.detail;
  if (job.kind !== "model") return;
  if (type === "started") {
    Object.assign(forming, { job, started: data, epochs: [] });
    $("waiting-text").textContent = `${job.title} (${job.model_id}) is training; the explorer opens on it when it is done.`;
    return;
  }
  if (type !== "epoch" || forming.job?.id !== job.id) return;
  forming.epochs.push(data);
  $("waiting-text").textContent =
    `${job.title} (${job.model_id}) is training: its latent map after epoch ${data.epoch} of ${data.epochs} ` +
    `(test −ELBO ${data.test_neg_elbo.toFixed(1)} nats). The explorer opens on it when it is done.`;
  const figure = evolutionFigure(liveSnapshots(forming.started, forming.epochs), forming.started.class_names);
  guarded(() => Plotly.react($("waiting-map"), figure.data, { ...figure.layout, sliders: [], updatemenus: [] }, PLOT_CONFIG));
}

// The first model served: the explorer opens on it.
function openFirst(event) {
  $("model").value = event.detail.model.id;
  window.removeEventListener("atlas:job", showForming);
  window.removeEventListener("atlas:model", openFirst);
  Plotly.purge($("waiting-map"));
  $("map-waiting").remove();
  graph.hidden = false;
  document.querySelectorAll("[data-needs-model]").forEach((element) => (element.hidden = false));
  start();
}

const forming = { job: null, started: null, epochs: [] };
const initial = readView();
if (initial.model && [...$("model").options].some((option) => option.value === initial.model)) {
  $("model").value = initial.model;
  state.model = initial.model;
} else {
  Object.assign(initial, { ranges: null, pins: [], path: null, selection: null }); // another model's view
}
if (initial.points in SPLIT_NAMES || initial.points === "all") {
  state.split = initial.points;
  $("points").value = initial.points;
}

// An end of a path as the URL keeps it (its spec) -> with its map point when it has one, for the line.
function endOf(spec) {
  const position = spec.index === undefined ? -1 : positionOf(state.map, spec);
  if (position >= 0) return { x: state.map.x[position], y: state.map.y[position], position, spec };
  if (spec.point) return { x: spec.point[0], y: spec.point[1], spec };
  return { spec };
}

// The view the page was opened with: zoom, pins, the path, the selection.
async function restoreView({ ranges, pins, path, selection }) {
  if (ranges) await Plotly.relayout(graph, { "xaxis.range": ranges.x, "yaxis.range": ranges.y });
  const known = (position) => Number.isInteger(position) && position >= 0 && position < state.map.x.length;
  for (const position of pins.filter(known)) await pin(state.map.x[position], state.map.y[position], position);
  if (path?.ends?.length >= 2) {
    $("steps").value = String(path.steps);
    $("steps-value").textContent = $("steps").value;
    $("method").value = path.method;
    const ends = path.ends.map(endOf);
    if (ends.every((end) => end.x !== undefined)) {
      state.line = pathShape(ends);
      redrawOverlay();
    }
    drawStrip(ends);
  }
  if (selection?.length) restoreSelection(graph, selection.filter(known));
}

async function start() {
  await guarded(async () => {
    await loadModel($("model").value);
    await restoreView(initial);
    saveView();
    graph.on("plotly_click", onPlotClick);
    graph.on("plotly_hover", onHover);
    graph.on("plotly_unhover", () => (state.hovered = null));
    wireSelection(graph, saveView);
    graph.on("plotly_relayout", (change) => {
      // Zooming says "xaxis.range[0]", a programmatic change "xaxis.range"; our own image updates say neither.
      if (Object.keys(change).some((key) => /^[xy]axis\.(range|autorange)/.test(key))) {
        refreshManifold();
        refreshDecision(true);
        saveView();
      }
    });
    graph.dataset.ready = "true";
  });
}

if ($("model").value) {
  window.addEventListener("load", start);
} else {
  // Listening from the start: the training job's events may come before the page's load event.
  window.addEventListener("atlas:job", showForming);
  window.addEventListener("atlas:model", openFirst);
}
