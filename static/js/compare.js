// The compare page: reconstruction-only, KL-only and full-ELBO latent maps, linked, at the same scale.
import * as api from "./api.js";
import { PLOT_CONFIG, isClassTrace, mapLayout, mapTraces, restyleUpdate, robustRange, traceIndex } from "./map-traces.js";
import { DRAWINGS_TRACE, HIGHLIGHT_TRACE, drawingOf, drawingsTrace, ellipseShapes, highlightTrace } from "./overlay-traces.js";
import { wireHoverDecoding } from "./hover-decode.js";
import { createDrawPad } from "./drawpad.js";
import { digitImage, guarded } from "./ui.js";

const FIGURE_IMAGES = 8;
const $ = (id) => document.getElementById(id);
const graphs = Object.fromEntries([...document.querySelectorAll(".compare-map")].map((el) => [el.dataset.model, el]));
const models = Object.keys(graphs);
const dataset = Object.values(graphs)[0]?.dataset.dataset;
const maps = {};
const drawings = Object.fromEntries(models.map((m) => [m, []]));

function sharedRange(axis) {
  const ranges = models.map((m) => robustRange(maps[m][axis]));
  return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
}

// Same scale shows how differently the losses spread the codes; fitted shows each map's structure.
function applyScale() {
  const same = $("same-scale").checked;
  return Promise.all(
    models.map((m) => {
      const xRange = same ? sharedRange("x") : robustRange(maps[m].x);
      const yRange = same ? sharedRange("y") : robustRange(maps[m].y);
      return Plotly.relayout(graphs[m], { "xaxis.range": xRange, "yaxis.range": yRange });
    }),
  );
}

function highlight(index) {
  for (const m of models) {
    const point = index === null ? null : { x: maps[m].x[index], y: maps[m].y[index] };
    Plotly.restyle(graphs[m], restyleUpdate(highlightTrace(point)), [traceIndex(graphs[m], HIGHLIGHT_TRACE)]);
  }
}

function wireMap(model) {
  const graph = graphs[model];
  const limit = maps[model].coordinate_limit;
  const decode = wireHoverDecoding(graph, {
    image: $(`hover-${model}`),
    coords: $(`coords-${model}`),
    current: () => ({ model, limit }),
  });
  decode({ x: 0, y: 0 });
  graph.on("plotly_hover", (event) => {
    const point = event.points.find((p) => isClassTrace(p.data));
    if (point) highlight(point.customdata);
  });
  graph.on("plotly_unhover", () => highlight(null));
}

async function encodeEverywhere(image) {
  const results = await Promise.all(models.map((m) => api.encodeImage(m, image)));
  results.forEach((result, i) => {
    const m = models[i];
    drawings[m].push(drawingOf(result, drawings[m].length + 1));
    Plotly.restyle(graphs[m], restyleUpdate(drawingsTrace(drawings[m])), [traceIndex(graphs[m], DRAWINGS_TRACE)]);
    Plotly.relayout(graphs[m], { shapes: ellipseShapes(drawings[m]) });
  });
}

function modelRow(model, images, what) {
  const row = document.createElement("div");
  row.className = "row";
  const name = document.createElement("span");
  name.className = "muted";
  name.style.width = "7em";
  name.textContent = model;
  row.append(name, ...images.map((src, i) => digitImage(src, `${what} ${i + 1} by ${model}`, true)));
  return row;
}

async function showReconstructions() {
  const indices = Array.from({ length: FIGURE_IMAGES }, (_, i) => i);
  const originals = document.createElement("div");
  originals.className = "row";
  const label = document.createElement("span");
  label.className = "muted";
  label.style.width = "7em";
  label.textContent = "test images";
  originals.append(label, ...indices.map((i) => digitImage(api.imageUrl(dataset, i), `test image ${i}`, true)));
  // For a 2-D model the map point of an image is its posterior mean, so decoding it reconstructs it.
  const rows = await Promise.all(
    models.map(async (m) => {
      const points = indices.map((i) => [maps[m].x[i], maps[m].y[i]]);
      return modelRow(m, (await api.decodePoints(m, points)).images, "reconstruction");
    }),
  );
  $("reconstructions").replaceChildren(originals, ...rows);
}

async function showInterpolations() {
  const start = { index: Number($("from-index").value) };
  const end = { index: Number($("to-index").value) };
  const rows = await Promise.all(
    models.map(async (m) => modelRow(m, (await api.interpolate(m, start, end, 10, "linear")).images, "step")),
  );
  $("interpolations").replaceChildren(...rows);
}

// Choosing another data set reloads the page with its three models.
$("dataset").addEventListener("change", (event) => event.target.form.submit());

const start = () =>
  guarded(async () => {
    const loaded = await Promise.all(models.map((m) => api.getMap(m)));
    models.forEach((m, i) => (maps[m] = loaded[i]));
    const layout = { ...mapLayout({ xRange: sharedRange("x"), yRange: sharedRange("y"), margin: 28 }), showlegend: false };
    await Promise.all(
      models.map((m) =>
        Plotly.newPlot(
          graphs[m],
          [...mapTraces(maps[m], { markerSize: 2.5 }), highlightTrace(null), drawingsTrace([])],
          layout,
          PLOT_CONFIG,
        ),
      ),
    );
    models.forEach(wireMap);
    $("same-scale").addEventListener("change", () => guarded(applyScale));
    // Two different classes to start with (a 2 and a 6 on MNIST, as in the tutorial's Fig. 3).
    const labels = maps[models[0]].label;
    const from = Math.max(labels.indexOf(2), 0);
    const to = labels.includes(6) ? labels.indexOf(6) : labels.findIndex((label) => label !== labels[from]);
    $("from-index").value = from;
    $("to-index").value = Math.max(to, 0);
    createDrawPad($("pad"), {
      brushInput: $("brush"),
      clearButton: $("clear-pad"),
      onStroke: (image) => guarded(() => encodeEverywhere(image)),
    });
    $("interpolate").addEventListener("click", () => guarded(showInterpolations));
    await Promise.all([showReconstructions(), showInterpolations()]);
    document.body.dataset.ready = "true";
  });
// After the page's load, or at once when compare-waiting.js opens the page late.
if (document.readyState === "complete") start();
else window.addEventListener("load", start);
