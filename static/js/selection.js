// Selection: a lasso or box drawn on the map picks test digits (over density tiles, the server finds the
// points it holds); the panel counts their classes, decodes their mean encoding, pages through the
// members, exports them as CSV and keeps them as a named group (latent arithmetic takes groups as its A
// and B).
import * as api from "./api.js";
import { EVENTS, emit, listen } from "./events.js";
import { keepInView, labelOf, saveView, view } from "./explorer-map.js";
import { classTraceIndices, hiddenLabels, imageOf, isClassTrace } from "./map-traces.js";
import { digitImage, figure, guarded, saveBlob } from "./ui.js";

const $ = (id) => document.getElementById(id);
const PAGE = 40; // members shown at once
// indices: positions on the map (imageOf says which image); groups: model -> [{ name, indices, split,
// first }] (first: the first member as the API names an image)
const state = { model: null, map: null, indices: [], page: 0, groups: new Map() };

// The named groups kept for a model: [{ name, indices, split, first }].
export const namedGroups = (model) => state.groups.get(model) ?? [];

function showMembers() {
  const { indices, page, map } = state;
  const shown = indices.slice(page * PAGE, (page + 1) * PAGE);
  $("selection-members").replaceChildren(
    ...shown.map((position) => {
      const { split, index } = imageOf(map, position);
      return digitImage(api.imageUrl(map.dataset, index, split), `${split} image ${index}: ${map.class_names[labelOf(position)]}`, true);
    }),
  );
  const pages = Math.ceil(indices.length / PAGE);
  $("selection-page").textContent = pages > 1 ? `page ${page + 1} of ${pages}` : "";
  $("selection-previous").disabled = page === 0;
  $("selection-next").disabled = page + 1 >= pages;
}

function showCounts(counts) {
  const names = state.map.class_names;
  const ranked = counts.map((count, label) => ({ count, label })).filter((c) => c.count > 0).sort((a, b) => b.count - a.count);
  $("selection-counts").replaceChildren(
    ...ranked.map(({ count, label }) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.dataset.label = names[label];
      chip.textContent = `${names[label]}: ${count}`;
      return chip;
    }),
  );
}

async function summarise() {
  const { model, indices } = state;
  const summary = await api.summariseSelection(model, indices, state.map.split);
  if (model !== state.model || indices !== state.indices) return;
  const what = { test: "test images", train: "training images", all: "images" }[state.map.split];
  $("selection-status").textContent = `${summary.count} ${what} selected`;
  showCounts(summary.class_counts);
  $("selection-mean").replaceChildren(figure(digitImage(summary.mean_image, "the selection's mean encoding, decoded"), "mean encoding, decoded"));
  $("selection-panel").dataset.count = String(summary.count);
}

function clear() {
  const had = state.indices.length > 0;
  state.indices = [];
  $("selection-details").hidden = true;
  $("selection-status").textContent = "Choose box or lasso above, then drag on the map to select images.";
  delete $("selection-panel").dataset.count;
  if (had) saveView();
}

function show(indices) {
  state.indices = indices;
  state.page = 0;
  $("selection-details").hidden = false;
  showMembers();
  guarded(summarise);
  saveView();
}

// A box's or lasso's vertices [[x, y], ...] from Plotly's selection event (null when it has neither).
function polygonOf(event) {
  if (event?.lassoPoints) return event.lassoPoints.x.map((x, i) => [x, event.lassoPoints.y[i]]);
  if (!event?.range) return null;
  const { x: [x0, x1], y: [y0, y1] } = event.range;
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

// Where the map is drawn as density tiles, the server says which points of the classes shown the box or
// lasso holds.
async function selectRegion(polygon) {
  const { model, map } = state;
  $("selection-status").textContent = "finding the points inside…";
  const hidden = hiddenLabels(view.graph);
  const shown = map.class_names.map((_, label) => label).filter((label) => !hidden.has(label));
  const { indices } = await api.selectRegion(model, polygon, map.split, shown);
  if (model !== state.model || map !== state.map) return;
  if (indices.length === 0) return clear();
  show(indices);
}

function onSelected(event) {
  const points = (event?.points ?? []).filter((p) => isClassTrace(p.data));
  const polygon = polygonOf(event);
  if (points.length === 0 && state.map?.density && polygon) return guarded(() => selectRegion(polygon));
  if (points.length === 0) return clear();
  show([...new Set(points.map((p) => p.customdata))].sort((a, b) => a - b));
}

// The selected positions on the map, sorted.
const selectedIndices = () => state.indices;

// Select `indices` as a lasso would have (a restored view): the panel, and the points marked on the map.
export function restoreSelection(indices) {
  const { graph } = view;
  const chosen = new Set(indices.filter((i) => Number.isInteger(i) && i >= 0 && i < view.map.x.length));
  if (!chosen.size) return;
  const classTraces = classTraceIndices(graph);
  const selected = classTraces.map((i) => graph.data[i].customdata.flatMap((index, point) => (chosen.has(index) ? [point] : [])));
  Plotly.restyle(graph, { selectedpoints: selected }, classTraces);
  show([...chosen].sort((a, b) => a - b));
}

async function downloadCsv() {
  saveBlob(await api.selectionCsv(state.model, state.indices, state.map.split), `${state.model}-selection.csv`);
}

function showGroups() {
  $("selection-groups").replaceChildren(
    ...namedGroups(state.model).map(({ name, indices }) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.textContent = `${name} (${indices.length})`;
      return chip;
    }),
  );
}

function keepGroup() {
  const name = $("selection-name").value.trim();
  if (!name) throw new Error("name the selection to keep it as a group");
  const groups = namedGroups(state.model).filter((group) => group.name !== name);
  const { split, index } = imageOf(state.map, state.indices[0]);
  const group = { name, indices: state.indices, split: state.map.split, first: { index, split } };
  state.groups.set(state.model, [...groups, group]);
  $("selection-name").value = "";
  showGroups();
  emit(EVENTS.groups, { model: state.model });
}

// A new model's map: the selection starts empty, its groups are its own.
function loadSelection(model, map) {
  Object.assign(state, { model, map });
  clear();
  showGroups();
}

export function init() {
  keepInView("selection", selectedIndices);
  listen(EVENTS.mapShown, ({ model, map }) => loadSelection(model, map));
  $("selection-previous").addEventListener("click", () => { state.page -= 1; showMembers(); });
  $("selection-next").addEventListener("click", () => { state.page += 1; showMembers(); });
  $("selection-csv").addEventListener("click", () => guarded(downloadCsv));
  $("selection-keep").addEventListener("click", () => guarded(async () => keepGroup()));
}

// Plotly's selection events on the drawn graph.
export function wireGraph() {
  view.graph.on("plotly_selected", onSelected);
  view.graph.on("plotly_deselect", clear);
}
