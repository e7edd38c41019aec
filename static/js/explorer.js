// The explorer page: latent map, live decoding, pins, drag-to-interpolate, draw and upload.
import * as api from "./api.js";
import {
  DECISION_TRACE, DRAWINGS_TRACE, PLOT_CONFIG, cursorToData, decisionTrace, drawingOf, drawingsTrace, ellipseShapes,
  isClassTrace, lineShape, mapLayout, mapTraces, pixelDistance, restyleUpdate, robustRange, traceIndex, viewRange,
} from "./map-traces.js";
import { wireHoverDecoding } from "./hover-decode.js";
import { createDrawPad, acceptImageFiles } from "./drawpad.js";
import { digitImage, figure, guarded, latestOnly } from "./ui.js";

const SNAP_PIXELS = 14; // a drag end this close to a digit snaps to it
const $ = (id) => document.getElementById(id);
const graph = $("map");

const state = { model: $("model").value, map: null, drawings: [], line: null, drag: null, pins: 0, hovered: null };
const mode = () => document.querySelector("input[name=mode]:checked").value;
const steps = () => Number($("steps").value);
const limit = () => state.map.coordinate_limit; // the server decodes |x|, |y| up to this
const inRange = (p) => Math.abs(p.x) <= limit() && Math.abs(p.y) <= limit();

async function loadModel(model) {
  state.model = model;
  state.map = await api.getMap(model);
  state.drawings = [];
  state.line = null;
  state.hovered = null;
  const layout = {
    ...mapLayout({ xRange: robustRange(state.map.x), yRange: robustRange(state.map.y) }),
    uirevision: model,
    dragmode: mode() === "zoom" ? "zoom" : false,
  };
  await Plotly.react(graph, [...mapTraces(state.map), drawingsTrace([])], layout, PLOT_CONFIG);
  graph.dataset.model = model;
  graph.dataset.points = String(state.map.x.length);
  $("strip").replaceChildren();
  $("encoding").replaceChildren();
  refreshManifold();
  refreshDecision(true);
  decodeUnderCursor({ x: 0, y: 0 });
  await loadGallery();
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
  state.hovered = point ? { x: point.x, y: point.y, index: point.customdata } : null;
}

// --- pins ------------------------------------------------------------------------------------------
async function pin(x, y, index) {
  const url = await api.decodeAt(state.model, x, y);
  state.pins += 1;
  const row = document.createElement("div");
  row.className = "row pin";
  const label = state.map.label[index];
  row.append(
    figure(digitImage(url, `decoded at ${x.toFixed(2)}, ${y.toFixed(2)}`, true), `#${state.pins} decoded`),
    figure(digitImage(api.digitUrl(index), `test digit ${index}`, true), `test ${index}: a ${label}`),
  );
  $("pins").prepend(row);
}

function onPlotClick(event) {
  if (mode() !== "zoom") return;
  const point = event.points.find((p) => isClassTrace(p.data));
  if (point) guarded(() => pin(point.x, point.y, point.customdata));
}

// --- drag to interpolate ---------------------------------------------------------------------------
// An end of the line: the hovered digit when it is near the cursor, else the map point itself (the
// server lifts map points through the model's plane).
function endAt(p, snap) {
  const near = state.hovered;
  if (snap && near && pixelDistance(graph, near, p) <= SNAP_PIXELS) {
    return { x: near.x, y: near.y, spec: { index: near.index } };
  }
  return { x: p.x, y: p.y, spec: { point: [p.x, p.y] } };
}

const drawStrip = latestOnly(({ start, end }) =>
  guarded(async () => {
    const result = await api.interpolate(state.model, start.spec, end.spec, steps(), $("method").value);
    $("strip").replaceChildren(...result.images.map((src, i) => digitImage(src, `step ${i + 1}`, true)));
  }),
);

function updateDrag(end) {
  state.drag.end = end;
  state.line = lineShape(state.drag.start, end);
  redrawOverlay();
  drawStrip({ start: state.drag.start, end });
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
    state.drag = { start, end: start };
  },
  true,
);
window.addEventListener("mousemove", (event) => {
  if (!state.drag) return;
  const p = cursorToData(graph, event);
  if (p && inRange(p)) updateDrag(endAt(p, false));
});
window.addEventListener("mouseup", (event) => {
  if (!state.drag) return;
  const p = cursorToData(graph, event);
  if (p && inRange(p)) updateDrag(endAt(p, true));
  state.drag = null;
});

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
  const neighbors = result.neighbors.map((n) =>
    figure(digitImage(api.digitUrl(n.index), `test digit ${n.index}`, true), `${n.label} (${n.distance.toFixed(2)})`),
  );
  const header = document.createElement("p");
  header.className = "muted";
  header.textContent = `#${number} at (${x.toFixed(2)}, ${y.toFixed(2)}), sigma (${sigmaX.toFixed(2)}, ${sigmaY.toFixed(2)}); the dotted ellipse is 2 sigma`;
  const images = document.createElement("div");
  images.className = "row";
  images.append(
    figure(digitImage(result.input, "your digit as the model sees it"), "as seen (28x28)"),
    figure(digitImage(result.reconstruction, "its reconstruction"), "reconstruction"),
  );
  const near = document.createElement("div");
  near.className = "row neighbors";
  near.append(...neighbors);
  $("encoding").replaceChildren(header, images, near);
}

const encodeAndShow = (image) => guarded(async () => showEncoding(await api.encodeImage(state.model, image)));
createDrawPad($("pad"), { brushInput: $("brush"), clearButton: $("clear-pad"), onStroke: encodeAndShow });
acceptImageFiles($("dropzone"), $("upload"), encodeAndShow);
$("clear-drawings").addEventListener("click", () => {
  state.drawings = [];
  state.line = null;
  redrawOverlay();
});

// --- the decoded manifold under the points, and the gallery ---------------------------------------
function refreshManifold() {
  if (!$("manifold").checked) {
    Plotly.relayout(graph, { images: [] });
    return;
  }
  // A square window around the view keeps the 28x28 tiles square; Plotly clips what falls outside.
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

// The classifier's reading of the decoded digits over the visible part of the map.
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
    const trace = decisionTrace(decision);
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
$("model").addEventListener("change", (event) => guarded(() => loadModel(event.target.value)));
$("steps").addEventListener("input", () => ($("steps-value").textContent = $("steps").value));
$("manifold").addEventListener("change", refreshManifold);
$("decision").addEventListener("change", () => refreshDecision(true));
$("resample").addEventListener("click", () => guarded(loadGallery));
document.querySelectorAll("input[name=mode]").forEach((radio) =>
  radio.addEventListener("change", () => Plotly.relayout(graph, { dragmode: mode() === "zoom" ? "zoom" : false })),
);

window.addEventListener("load", () =>
  guarded(async () => {
    await loadModel(state.model);
    graph.on("plotly_click", onPlotClick);
    graph.on("plotly_hover", onHover);
    graph.on("plotly_unhover", () => (state.hovered = null));
    graph.on("plotly_relayout", (change) => {
      // Zooming says "xaxis.range[0]", a programmatic change "xaxis.range"; our own image updates say neither.
      if (Object.keys(change).some((key) => /^[xy]axis\.(range|autorange)/.test(key))) {
        refreshManifold();
        refreshDecision(true);
      }
    });
    graph.dataset.ready = "true";
  }),
);
