// Traversals: one row per latent dimension (highest KL first), the centre moved along it from -3 to +3
// prior standard deviations; dead dimensions (inactive units) marked. For models beyond two dimensions,
// where the map is only a projection. Of a larger latent (a spatial one has hundreds of dimensions), only
// the ROWS of highest KL, so the page does not decode thousands of images on opening.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { digitImage, guarded, latestOnly } from "./ui.js";

const $ = (id) => document.getElementById(id);
const current = { model: null, index: null }; // index: the test image traversed around, if it is one
const ROWS = 16;

function rowOf(dimension, offsets) {
  const row = document.createElement("tr");
  row.dataset.dim = String(dimension.dim);
  row.dataset.active = String(dimension.active);
  if (!dimension.active) row.className = "dead";
  const name = document.createElement("th");
  name.scope = "row";
  // The dimension's own page, clamped on the test image traversed around.
  const page = new URLSearchParams({ model: current.model, dim: dimension.dim, ...(current.index === null ? {} : { index: current.index }) });
  const link = document.createElement("a");
  link.href = `${api.ROOT}/latent?${page}`;
  link.textContent = dimension.name;
  link.title = "this dimension's page: its KL, its ends, its classes, clamped on an image";
  name.append(link);
  const kl = document.createElement("span");
  kl.className = "muted";
  kl.textContent = dimension.active ? ` KL ${dimension.kl.toFixed(2)}` : ` KL ${dimension.kl.toFixed(2)}, dead`;
  name.title = `Cov_x(E_q[z]) = ${dimension.activity.toPrecision(3)}${dimension.active ? "" : " ≤ 0.01: the encoder does not use it"}`;
  name.append(kl);
  const cells = dimension.images.map((src, i) => {
    const cell = document.createElement("td");
    cell.append(digitImage(src, `${dimension.name} ${offsets[i] >= 0 ? "+" : ""}${offsets[i].toFixed(1)}`, true));
    return cell;
  });
  row.append(name, ...cells);
  return row;
}

const draw = latestOnly(({ model, centre, label }) =>
  guarded(async () => {
    $("traversal-status").textContent = "decoding…";
    const result = await api.getTraversal(model, centre ? { centre, rows: ROWS } : { rows: ROWS });
    if (model !== current.model) return;
    current.index = centre?.index !== undefined && (centre.split ?? "test") === "test" ? centre.index : null;
    const header = document.createElement("tr");
    header.append(document.createElement("th"));
    for (const offset of result.offsets) {
      const cell = document.createElement("th");
      cell.className = "muted";
      cell.textContent = `${offset > 0 ? "+" : ""}${Number(offset.toFixed(2))}`;
      header.append(cell);
    }
    $("traversal").replaceChildren(header, ...result.rows.map((row) => rowOf(row, result.offsets)));
    const shown = result.rows.length < result.latent_dim ? `the ${result.rows.length} of highest KL shown; ` : "";
    $("traversal-status").textContent =
      `around ${label}; ${shown}${result.active_units} of ${result.latent_dim} dimensions active (Cov_x(E_q[z]) > 0.01)`;
    $("traversal").dataset.rows = String(result.rows.length);
    $("traversal-prior").disabled = centre === null;
  }),
);

// Show the model's traversals around the prior mean (hidden for 2-D models, whose map is the whole space).
function loadTraversals(model, twoDimensional) {
  current.model = model;
  $("traversal-panel").hidden = twoDimensional;
  $("traversal").replaceChildren();
  if (!twoDimensional) draw({ model, centre: null, label: "the prior mean" });
}

export function init() {
  listen(EVENTS.mapShown, ({ model, map }) => loadTraversals(model, map.plane.latent_plane));
  // A pinned or drawn image (a point named as the API names one: { index }, { image }, ...) is the centre.
  listen(EVENTS.focus, ({ point, label }) => {
    if (!$("traversal-panel").hidden) draw({ model: current.model, centre: point, label });
  });
  $("traversal-prior").addEventListener("click", () => draw({ model: current.model, centre: null, label: "the prior mean" }));
}
