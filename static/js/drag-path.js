// Interpolation: drag from one point to another (resting on points on the way makes them waypoints), or
// name classes ("@ 9 a"); a strip of decoded steps follows, downloadable as a PNG or a GIF. The path is
// kept in the URL.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { inRange, keepInView, mode, saveView, setLine, specOf, view } from "./explorer-map.js";
import { classTokens, cursorToData, pixelDistance, positionOf } from "./map-traces.js";
import { pathShape } from "./overlay-traces.js";
import { latentSpecs, placedPoints } from "./planes.js";
import { digitImage, guarded, latestOnly, saveBlob } from "./ui.js";

const $ = (id) => document.getElementById(id);
const SNAP_PIXELS = 14; // a drag end this close to a point snaps to it
const DWELL_MS = 350; // resting this long on a point while dragging makes it a waypoint of the path
const MAX_ENDS = 8; // start, up to six waypoints, end: what the API takes
const steps = () => Number($("steps").value);
// path: the strip's { ends, steps, method } (the URL keeps it); drag: the drag under way, or null.
const current = { path: null, drag: null };

// An end of the path: the hovered point when it is near the cursor, else the map point itself (the
// server lifts map points through the model's plane).
function snapped(p) {
  const near = view.hovered;
  if (!near || pixelDistance(view.graph, near, p) > SNAP_PIXELS) return null;
  return { x: near.x, y: near.y, position: near.position, spec: specOf(near.position) };
}
const endAt = (p, snap) => (snap && snapped(p)) || { x: p.x, y: p.y, spec: { point: [p.x, p.y] } };

// One strip through every end in order (the tutorial's Fig. 5 when the ends are @, 9 and a).
const drawStrip = latestOnly((ends) =>
  guarded(async () => {
    const specs = await latentSpecs(ends.map((end) => end.spec)); // a nonlinear plane's points as latents
    const result = await api.interpolate(view.model, specs[0], specs.at(-1), steps(), $("method").value, specs.slice(1, -1));
    $("strip").replaceChildren(...result.images.map((src, i) => digitImage(src, `step ${i + 1}`, true)));
    $("strip").dataset.ends = String(ends.length);
    $("strip-downloads").hidden = false;
    current.path = { ends: specs, steps: steps(), method: $("method").value };
    saveView();
    if (ends[0].x === undefined) {
      const points = await placedPoints(result.z, result.map_xy); // named: the server's path
      setLine(pathShape(points.map(([x, y]) => ({ x, y }))));
    }
  }),
);

function updateDrag(end) {
  const ends = [...current.drag.ends, end];
  setLine(pathShape(ends));
  drawStrip(ends);
}

// Resting on a point mid-drag adds it as a waypoint: drag through @, 9 and a, pausing on each. Both the
// cursor's moves and Plotly's hover (which reports a point after the move that reached it) say where
// it rests; the timer restarts only when that point changes.
function dwellOn(near) {
  const drag = current.drag;
  if (near?.position === drag.candidate?.position) return;
  clearTimeout(drag.dwell);
  drag.candidate = near;
  if (!near || near.position === drag.ends.at(-1).position || drag.ends.length >= MAX_ENDS - 1) return;
  drag.dwell = setTimeout(() => {
    if (current.drag !== drag) return;
    drag.ends.push(near);
    drag.candidate = null;
    updateDrag(near);
  }, DWELL_MS);
}

// A path named by class, e.g. "@ 9 a": each class's most typical test image, in order.
function interpolateNamed() {
  const labels = classTokens(view.map.class_names, $("path-labels").value);
  if (labels.length < 2) throw new Error(`name two or more classes, ${$("path-labels").placeholder}`);
  if (labels.length > MAX_ENDS) throw new Error(`a path passes through at most ${MAX_ENDS} classes`);
  setLine(null);
  drawStrip(labels.map((label) => ({ spec: { label } })));
}

// The strip as a file: one PNG side by side, or an animated GIF forth and back.
async function downloadStrip(format) {
  const { ends, steps: count, method } = current.path;
  const body = { start: ends[0], via: ends.slice(1, -1), end: ends.at(-1), steps: count, method };
  saveBlob(await api.interpolationFile(view.model, body, format), `${view.model}-interpolation.${format}`);
}

// An end as the URL keeps it (its spec) -> with its map point when it has one, for the line.
function endOf(spec) {
  const position = spec.index === undefined ? -1 : positionOf(view.map, spec);
  if (position >= 0) return { x: view.map.x[position], y: view.map.y[position], position, spec };
  if (spec.point) return { x: spec.point[0], y: spec.point[1], spec };
  return { spec };
}

// The path a view names, drawn again.
export function restorePath(path) {
  if (!(path?.ends?.length >= 2)) return;
  $("steps").value = String(path.steps);
  $("steps-value").textContent = $("steps").value;
  $("method").value = path.method;
  const ends = path.ends.map(endOf);
  if (ends.every((end) => end.x !== undefined)) setLine(pathShape(ends));
  drawStrip(ends);
}

function wireDrag(graph) {
  graph.addEventListener(
    "mousedown",
    (event) => {
      if (mode() !== "interpolate" || event.button !== 0) return;
      const p = cursorToData(graph, event);
      if (!p || !inRange(p)) return;
      event.preventDefault();
      event.stopPropagation();
      current.drag = { ends: [endAt(p, true)], dwell: null, candidate: null };
    },
    true,
  );
  window.addEventListener("mousemove", (event) => {
    if (!current.drag) return;
    const p = cursorToData(graph, event);
    if (!p || !inRange(p)) return;
    updateDrag(endAt(p, false));
    dwellOn(snapped(p));
  });
  window.addEventListener("mouseup", (event) => {
    if (!current.drag) return;
    clearTimeout(current.drag.dwell);
    const p = cursorToData(graph, event);
    if (p && inRange(p)) updateDrag(endAt(p, true));
    current.drag = null;
  });
}

export function init() {
  keepInView("path", () => current.path);
  wireDrag(view.graph);
  $("steps").addEventListener("input", () => ($("steps-value").textContent = $("steps").value));
  $("path-go").addEventListener("click", () => guarded(async () => interpolateNamed()));
  $("strip-png").addEventListener("click", () => guarded(() => downloadStrip("png")));
  $("strip-gif").addEventListener("click", () => guarded(() => downloadStrip("gif")));
  listen(EVENTS.mapShown, () => {
    current.path = null;
    $("strip").replaceChildren();
    $("strip-downloads").hidden = true;
  });
}

// Plotly's hover on the drawn graph: a point reached mid-drag may become a waypoint.
export function wireGraph() {
  view.graph.on("plotly_hover", () => {
    if (current.drag && view.hovered) dwellOn({ ...view.hovered, spec: specOf(view.hovered.position) });
  });
}
