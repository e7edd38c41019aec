// The map's layers under or instead of the points: the density view of crowded maps, the decoded
// manifold tiled under the points, and the decision map (the class the data set's classifier reads in the
// decoded image at each point). The manifold and the decision map follow zooming.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { limit, view } from "./explorer-map.js";
import { classTraceIndices, restyleUpdate, traceIndex, viewRange, withImages } from "./map-traces.js";
import { DECISION_TRACE, DENSITY_TRACE, decisionTrace, densityTrace } from "./overlay-traces.js";
import { guarded, latestOnly } from "./ui.js";

const $ = (id) => document.getElementById(id);
const MANIFOLD = "manifold"; // the name of its image in the layout
// The plane the map is drawn on, as the API's query names it (on UMAP or t-SNE, points decode estimates).
const onPlane = () => (view.plane === "pca" ? {} : { plane: view.plane, split: view.split });

// The density view replaces the points by their counts on a grid (the legend brings a class back on top).
async function showDensity() {
  const { graph } = view;
  const shown = traceIndex(graph, DENSITY_TRACE);
  const on = $("density").checked && !view.map.density; // a map drawn as density is already
  graph.dataset.density = String(on);
  if (!on && shown < 0) return; // nothing to undo: restyling 70,000 points costs a redraw (~0.25 s)
  if (shown >= 0) await Plotly.deleteTraces(graph, shown);
  const classes = classTraceIndices(graph);
  await Plotly.restyle(graph, { visible: on ? "legendonly" : true }, classes);
  if (on) await Plotly.addTraces(graph, densityTrace(view.map));
}

function refreshManifold() {
  if (!$("manifold").checked) {
    Plotly.relayout(view.graph, { images: withImages(view.graph, MANIFOLD, []) });
    return;
  }
  // A square window around the view keeps the tiles square; Plotly clips what falls outside.
  const { x: [xa, xb], y: [ya, yb] } = viewRange(view.graph);
  const half = Math.min(Math.max(xb - xa, yb - ya) / 2, limit());
  const clamp = (v) => Math.max(-limit(), Math.min(limit() - 2 * half, v));
  const x0 = clamp((xa + xb) / 2 - half);
  const y0 = clamp((ya + yb) / 2 - half);
  const [x1, y1] = [x0 + 2 * half, y0 + 2 * half];
  const source = api.gridUrl(view.model, { n: 24, spacing: "linear", x_range: `${x0},${x1}`, y_range: `${y0},${y1}`, ...onPlane() });
  Plotly.relayout(view.graph, {
    images: withImages(view.graph, MANIFOLD, [{ source, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0,
      sizing: "stretch", layer: "below", opacity: 0.6, xanchor: "left", yanchor: "top" }]),
  });
}

// The classifier's reading of the decoded images over the visible part of the map.
const refreshDecision = latestOnly(() =>
  guarded(async () => {
    const { graph } = view;
    const shown = traceIndex(graph, DECISION_TRACE);
    if (!$("decision").checked) {
      if (shown >= 0) await Plotly.deleteTraces(graph, shown);
      return;
    }
    const clamp = (v) => Math.max(-limit(), Math.min(limit(), v));
    const range = viewRange(graph);
    const [xa, xb] = range.x.map(clamp);
    const [ya, yb] = range.y.map(clamp);
    const decision = await api.getDecisionMap(view.model, { n: 48, x_range: `${xa},${xb}`, y_range: `${ya},${yb}`, ...onPlane() });
    if (decision.model_id !== view.model || !$("decision").checked) return;
    const trace = decisionTrace(decision, view.map.class_names.length);
    const index = traceIndex(graph, DECISION_TRACE);
    if (index >= 0) {
      await Plotly.restyle(graph, restyleUpdate(trace, ["x", "y", "z"]), [index]);
    } else {
      await Plotly.addTraces(graph, trace);
    }
    graph.dataset.decision = String(decision.x.length);
  }),
);

// The layers of a newly drawn map.
async function showLayers() {
  await showDensity();
  refreshManifold();
  refreshDecision(true);
}

export function init() {
  listen(EVENTS.mapShown, () => guarded(showLayers));
  $("manifold").addEventListener("change", refreshManifold);
  $("density").addEventListener("change", () => guarded(showDensity));
  $("decision").addEventListener("change", () => refreshDecision(true));
  listen(EVENTS.viewMoved, () => {
    refreshManifold();
    refreshDecision(true);
  });
}
