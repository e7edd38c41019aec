// The explorer page: latent map, live decoding, pins, drag-to-interpolate, draw and upload.
import * as api from "./api.js";
import {
  PLOT_CONFIG, cursorToData, decisionTrace, drawingsTrace, ellipseShapes, liftToLatent, lineShape, mapLayout, mapTraces,
  nearestDigit, pixelsPerUnit, restyleUpdate, robustRange, sigmaOnMap,
} from "./plots.js";
import { createDrawPad, acceptImageFiles } from "./drawpad.js";
import { digitImage, figure, guarded, latestOnly } from "./ui.js";

const SNAP_PIXELS = 14; // a drag released this close to a digit snaps to it
const $ = (id) => document.getElementById(id);
const graph = $("map");
const DRAWINGS_TRACE = 10; // after the ten digit traces
const DECISION_TRACE = 11; // present while the decision map is shown

const state = { model: $("model").value, map: null, drawings: [], line: null, drag: null, pins: 0 };
const mode = () => document.querySelector("input[name=mode]:checked").value;
const steps = () => Number($("steps").value);
const limit = () => state.map.coordinate_limit; // the server decodes |x|, |y| up to this
const inRange = (p) => Math.abs(p.x) <= limit() && Math.abs(p.y) <= limit();

async function loadModel(model) {
  state.model = model;
  state.map = await api.getMap(model);
  state.drawings = [];
  state.line = null;
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
  loadGallery();
}

// --- live decoding under the cursor ---------------------------------------------------------------
let hoverUrl = null;
const decodeUnderCursor = latestOnly((p) =>
  guarded(async () => {
    const url = await api.decodeAt(state.model, p.x, p.y);
    if (hoverUrl) URL.revokeObjectURL(hoverUrl);
    hoverUrl = url;
    $("hover-image").src = url;
    $("hover-coords").textContent = `x ${p.x.toFixed(2)}, y ${p.y.toFixed(2)}`;
  }),
);

graph.addEventListener("mousemove", (event) => {
  const p = cursorToData(graph, event);
  if (p && inRange(p)) decodeUnderCursor(p);
});

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
  const point = event.points.find((p) => p.curveNumber < DRAWINGS_TRACE);
  if (point) guarded(() => pin(point.x, point.y, point.customdata));
}

// --- drag to interpolate ---------------------------------------------------------------------------
function snapped(p) {
  const near = nearestDigit(state.map, p.x, p.y);
  if (near.distance * pixelsPerUnit(graph) <= SNAP_PIXELS) {
    return { x: state.map.x[near.position], y: state.map.y[near.position], spec: { index: near.index } };
  }
  return { x: p.x, y: p.y, spec: { z: liftToLatent(state.map, p.x, p.y) } };
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
    const start = snapped(p);
    state.drag = { start, end: start };
  },
  true,
);
window.addEventListener("mousemove", (event) => {
  if (!state.drag) return;
  const p = cursorToData(graph, event);
  if (p && inRange(p)) updateDrag({ x: p.x, y: p.y, spec: { z: liftToLatent(state.map, p.x, p.y) } });
});
window.addEventListener("mouseup", (event) => {
  if (!state.drag) return;
  const p = cursorToData(graph, event);
  if (p && inRange(p)) updateDrag(snapped(p));
  state.drag = null;
});

// --- encode drawings and uploads -------------------------------------------------------------------
function redrawOverlay() {
  const shapes = ellipseShapes(state.drawings);
  if (state.line) shapes.push(state.line);
  Plotly.restyle(graph, restyleUpdate(drawingsTrace(state.drawings)), [DRAWINGS_TRACE]);
  Plotly.relayout(graph, { shapes });
}

function showEncoding(result) {
  const [x, y] = result.map_xy;
  const [sigmaX, sigmaY] = sigmaOnMap(state.map, result.sigma);
  const number = state.drawings.length + 1;
  state.drawings.push({ number, x, y, sigmaX, sigmaY });
  redrawOverlay();
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

createDrawPad($("pad"), {
  brushInput: $("brush"),
  clearButton: $("clear-pad"),
  onStroke: (dataUrl) => guarded(async () => showEncoding(await api.encodeDataUrl(state.model, dataUrl))),
});
acceptImageFiles($("dropzone"), $("upload"), (file) =>
  guarded(async () => showEncoding(await api.encodeFile(state.model, file))),
);
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
  const [xa, xb] = graph._fullLayout.xaxis.range;
  const [ya, yb] = graph._fullLayout.yaxis.range;
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
    const shown = graph.data.length > DECISION_TRACE;
    if (!$("decision").checked) {
      if (shown) await Plotly.deleteTraces(graph, DECISION_TRACE);
      return;
    }
    const clamp = (v) => Math.max(-limit(), Math.min(limit(), v));
    const [xa, xb] = graph._fullLayout.xaxis.range.map(clamp);
    const [ya, yb] = graph._fullLayout.yaxis.range.map(clamp);
    const decision = await api.getDecisionMap(state.model, { n: 48, x_range: `${xa},${xb}`, y_range: `${ya},${yb}` });
    if (decision.model !== state.model || !$("decision").checked) return;
    const trace = decisionTrace(decision);
    if (graph.data.length > DECISION_TRACE) {
      await Plotly.restyle(graph, restyleUpdate(trace, ["x", "y", "z"]), [DECISION_TRACE]);
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
