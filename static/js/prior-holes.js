// The aggregate posterior against the prior over the map: log q(z)/p(z) shaded under the points (over the
// view, following zoom), the prior's disc and its holes marked, and what they amount to in words. Hover
// decodes a hole's point as anywhere else.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { limit, view } from "./explorer-map.js";
import { restyleUpdate, traceIndex, viewRange } from "./map-traces.js";
import {
  DISC_TRACE, HOLES_TRACE, RATIO_TRACE, holeMarksTrace, holesText, priorDiscTrace, priorRatioTrace,
} from "./overlay-traces.js";
import { guarded, latestOnly } from "./ui.js";

const $ = (id) => document.getElementById(id);
const LAYER = [[RATIO_TRACE, priorRatioTrace, ["x", "y", "z"]], [DISC_TRACE, priorDiscTrace, ["x", "y"]], [HOLES_TRACE, holeMarksTrace, ["x", "y", "text"]]];

async function removeLayer(graph) {
  const shown = LAYER.map(([uid]) => traceIndex(graph, uid)).filter((index) => index >= 0);
  if (shown.length) await Plotly.deleteTraces(graph, shown);
  $("holes-note").hidden = true;
}

const refresh = latestOnly(() =>
  guarded(async () => {
    const { graph } = view;
    if (!$("holes").checked || view.plane !== "pca") {
      await removeLayer(graph);
      return;
    }
    const clamp = (v) => Math.max(-limit(), Math.min(limit(), v));
    const range = viewRange(graph);
    const [xa, xb] = range.x.map(clamp);
    const [ya, yb] = range.y.map(clamp);
    const holes = await api.getPriorHoles(view.model, { n: 64, x_range: `${xa},${xb}`, y_range: `${ya},${yb}` });
    if (holes.model_id !== view.model || !$("holes").checked) return;
    for (const [uid, build, keys] of LAYER) {
      const trace = build(holes);
      const index = traceIndex(graph, uid);
      if (index >= 0) await Plotly.restyle(graph, restyleUpdate(trace, keys), [index]);
      else await Plotly.addTraces(graph, trace);
    }
    $("holes-note").textContent = holesText(holes);
    $("holes-note").hidden = false;
    graph.dataset.holes = String(holes.holes.length);
  }),
);

export function init() {
  $("holes").addEventListener("change", () => refresh(true));
  listen(EVENTS.mapShown, () => {
    const linear = view.plane === "pca";
    $("holes").disabled = !linear;
    $("holes-control").title = linear
      ? "log q(z)/p(z): where the prior has mass that no image encodes to"
      : "Prior holes are drawn on the PCA plane: a UMAP or t-SNE plane's coordinates are not a projection of z";
    refresh(true);
  });
  listen(EVENTS.viewMoved, () => refresh(true));
}
