// The explorer page: it starts each feature's module, then draws the map and restores the view the URL
// keeps (or, on a first run, shows the map of the model being trained until one is served).
import * as arithmetic from "./arithmetic.js";
import * as density from "./density.js";
import * as dragPath from "./drag-path.js";
import * as drawings from "./drawings.js";
import { EVENTS, listen } from "./events.js";
import * as explorerMap from "./explorer-map.js";
import * as exportView from "./export-view.js";
import { waitForFirstModel } from "./forming-map.js";
import * as gallery from "./gallery.js";
import { wireHoverDecoding } from "./hover-decode.js";
import * as layers from "./layers.js";
import * as notebookLink from "./notebook-link.js";
import * as pins from "./pins.js";
import * as planes from "./planes.js";
import * as pointMetrics from "./point-metrics.js";
import * as priorHoles from "./prior-holes.js";
import * as selection from "./selection.js";
import * as traversal from "./traversal.js";
import { guarded } from "./ui.js";

const { view } = explorerMap;

async function start() {
  const opened = explorerMap.openedView();
  await guarded(async () => {
    await explorerMap.loadModel(document.getElementById("model").value);
    if (opened.plane === "umap" || opened.plane === "tsne") await planes.choosePlane(opened.plane);
    if (opened.ranges) await Plotly.relayout(view.graph, { "xaxis.range": opened.ranges.x, "yaxis.range": opened.ranges.y });
    await pins.restorePins(opened.pins);
    dragPath.restorePath(opened.path);
    if (opened.selection?.length) selection.restoreSelection(opened.selection);
    explorerMap.saveView();
    explorerMap.wireGraph();
    dragPath.wireGraph();
    selection.wireGraph();
    view.graph.dataset.ready = "true";
  });
}

for (const feature of [explorerMap, planes, density, pointMetrics, exportView, notebookLink, layers, priorHoles, pins, dragPath, drawings, selection, traversal, arithmetic, gallery]) {
  feature.init();
}
const decodeUnderCursor = wireHoverDecoding(view.graph, {
  image: document.getElementById("hover-image"),
  coords: document.getElementById("hover-coords"),
  current: () => ({ model: view.model, limit: view.map ? explorerMap.limit() : 0, plane: view.plane, split: view.split }),
});
listen(EVENTS.mapShown, () => decodeUnderCursor({ x: 0, y: 0 }));
if (view.model) {
  window.addEventListener("load", start);
} else {
  waitForFirstModel(start); // listening from the start: a job's events may come before the load event
}
