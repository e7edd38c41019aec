// The explorer framed by a notebook (latent_atlas.explore()): it tells its server what it shows (the split
// and plane, pins, selection and the point under the cursor) for the notebook's atlas to read, and rings
// the images the notebook highlights. Idle on a page no notebook started.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { view } from "./explorer-map.js";
import { positionOf, restyleUpdate, traceIndex } from "./map-traces.js";
import { MARKS_TRACE, marksTrace } from "./overlay-traces.js";
import { guarded } from "./ui.js";

const POLL_MS = 1000; // how soon a highlight from Python shows
const REPORT_MS = 150; // a burst of changes (a drag, a hover) is told once
// report: the view as last told; highlight: the notebook's last ({ split, indices, version }).
const state = { report: {}, timer: null, highlight: { version: 0, indices: [] }, drawn: 0 };

function tell(part) {
  Object.assign(state.report, part);
  clearTimeout(state.timer);
  const model = view.model;
  state.timer = setTimeout(() => guarded(() => api.reportView(model, state.report)), REPORT_MS);
}

async function drawHighlight() {
  const { split, indices } = state.highlight;
  const positions = indices.map((index) => positionOf(view.map, { split, index })).filter((p) => p >= 0);
  const trace = marksTrace(view.map, positions);
  const shown = traceIndex(view.graph, MARKS_TRACE);
  if (shown >= 0) await Plotly.restyle(view.graph, restyleUpdate(trace, ["x", "y"]), [shown]);
  else await Plotly.addTraces(view.graph, trace);
  state.drawn = state.highlight.version;
}

async function poll() {
  if (!view.map) return;
  const highlight = await api.getHighlight(view.model);
  if (highlight.version !== state.highlight.version) state.highlight = highlight;
  if (state.highlight.version !== state.drawn) await drawHighlight();
}

export function init() {
  if (document.getElementById("map").dataset.linkedView !== "true") return;
  listen(EVENTS.viewSaved, ({ points, plane, pins, selection }) => tell({ split: points, plane, pins, selection }));
  listen(EVENTS.hovered, ({ x, y }) => tell({ hovered: [x, y] }));
  listen(EVENTS.mapShown, () => {
    state.report = {};
    state.drawn = -1; // the new map is drawn without the rings: draw them again
  });
  setInterval(() => guarded(poll), POLL_MS);
}
