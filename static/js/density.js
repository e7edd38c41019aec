// Maps too large to draw point by point (the /map response's `density`, above the server's density_from):
// the split is encoded on the server in the background first (its progress beside the Points choice);
// then each view is drawn as the density tiles the server aggregates, or, where the view holds few
// enough points, as those points, which hover, click, pin and select like any map's.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { view } from "./explorer-map.js";
import { classColors, classTraceIndices, hiddenLabels, mapTraces, plotWidth, traceLabel, viewRange, withImages } from "./map-traces.js";
import { guarded, latestOnly } from "./ui.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 300;
const TILES = "density-tiles"; // the name of the tiles' images in the layout
const count = (n) => n.toLocaleString("en-US");
let tiles = []; // the tiles drawn now (the server's), redrawn in other colours when classes are hidden

// Encode the split on the server (once), showing how far it is; resolves when its map can be drawn.
export async function encodeSplit(model, split) {
  const status = $("points-status");
  let progress = await api.startEncoding(model, split);
  while (progress.state === "computing") {
    status.textContent = `encoding: ${progress.stage} (${Math.round(100 * progress.fraction)}%, ${Math.round(progress.seconds)} s)`;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    progress = await api.encodingProgress(model, split);
  }
  status.textContent = "";
  if (progress.state === "failed") throw new Error(`could not encode the ${split} split: ${progress.error}`);
}

// Each class's colour as the tiles take it ("rrggbb"), empty for a class the legend or filter hides.
function tileColors(graph) {
  const hidden = hiddenLabels(graph);
  return classColors(view.map.class_names.length).map((color, label) => (hidden.has(label) ? "" : color.slice(1)));
}

function tileImages(graph) {
  const colors = tileColors(graph).join(",");
  return tiles.map((tile) => ({
    source: api.tileUrl(view.model, view.split, tile, colors), xref: "x", yref: "y", x: tile.x[0], y: tile.y[1],
    sizex: tile.x[1] - tile.x[0], sizey: tile.y[1] - tile.y[0], sizing: "stretch", layer: "below", xanchor: "left", yanchor: "top",
  }));
}

// The class traces holding `points` (the view's) or nothing.
async function showPoints(graph, points) {
  const traces = mapTraces({ ...view.map, ...(points ?? { x: [], y: [], label: [], position: [] }) });
  const indices = classTraceIndices(graph);
  const of = (i) => traces[traceLabel(graph.data[i])];
  await Plotly.restyle(graph, { x: indices.map((i) => of(i).x), y: indices.map((i) => of(i).y), customdata: indices.map((i) => of(i).customdata) }, indices);
  view.region = new Map(points ? points.position.map((position, i) => [position, points.label[i]]) : []);
}

// What the view holds, asked of the server: its points, or the tiles that cover it.
const drawView = latestOnly(() =>
  guarded(async () => {
    const { graph, map, model } = view;
    if (!map?.density) return;
    const { x, y } = viewRange(graph);
    const shown = await api.getMapView(model, view.split, { x, y, pixels: Math.round(plotWidth(graph)) });
    if (view.map !== map) return; // another map was drawn meanwhile
    tiles = shown.tiles;
    await showPoints(graph, shown.points);
    await Plotly.relayout(graph, { images: withImages(graph, TILES, tileImages(graph)) });
    const total = count(map.density.total);
    $("points-status").textContent = shown.points
      ? `${count(shown.count)} of ${total} points in view`
      : `${total} points as density (${count(shown.count)} in view): zoom in to draw them (at most ${count(map.density.region_limit)})`;
    graph.dataset.tiles = String(shown.tiles.length);
    graph.dataset.viewPoints = String(shown.points ? shown.count : 0);
  }),
);

// The legend or the class filter hid or showed classes: the tiles are drawn again without them.
function recolour(change) {
  const { graph } = view;
  if (!view.map?.density || !change?.[0] || !("visible" in change[0]) || !tiles.length) return;
  Plotly.relayout(graph, { images: withImages(graph, TILES, tileImages(graph)) });
}

export function init() {
  let wired = false;
  listen(EVENTS.mapShown, ({ map }) => {
    const dense = Boolean(map.density);
    $("colour-control").hidden = dense; // per-point colours, the page's own density and UMAP need every point
    $("density-control").hidden = dense;
    if (dense) $("plane-control").hidden = true;
    if (!dense) {
      tiles = [];
      if (view.graph.layout.images?.some((image) => image.name === TILES)) Plotly.relayout(view.graph, { images: withImages(view.graph, TILES, []) });
      return;
    }
    if (!wired) {
      view.graph.on("plotly_restyle", recolour);
      wired = true;
    }
    drawView(true);
  });
  listen(EVENTS.viewMoved, () => drawView(true));
}
