// The map's plane above two dimensions: PCA (exact), or UMAP or t-SNE, computed on the server in the
// background (its progress shown here) the first time it is chosen. On a nonlinear plane new points are
// placed by the method's own transform and a map point decodes an estimate from the nearest encodings.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { loadModel, saveView, view } from "./explorer-map.js";
import { guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;
const nonlinear = () => view.plane !== "pca";

// An encoding as the map shows it: on a nonlinear plane, mu placed by its transform and no ellipse.
export async function placedEncoding(encoding) {
  if (!nonlinear()) return encoding;
  const { map_xy } = await api.placeOnPlane(view.model, view.plane, view.split, [encoding.mu]);
  return { ...encoding, map_xy: map_xy[0], map_sigma: null };
}

// Latents [[z...]] with their server-given map points on the PCA plane -> their points on the plane shown.
export async function placedPoints(z, pcaPoints) {
  if (!nonlinear()) return pcaPoints;
  return (await api.placeOnPlane(view.model, view.plane, view.split, z)).map_xy;
}

// Path ends as the API names them; a map point of a nonlinear plane is sent as its estimated latent.
export async function latentSpecs(specs) {
  if (!nonlinear() || !specs.some((spec) => spec.point)) return specs;
  const points = specs.filter((spec) => spec.point).map((spec) => spec.point);
  const { z } = await api.liftFromPlane(view.model, view.plane, view.split, points);
  let next = 0;
  return specs.map((spec) => (spec.point ? { z: z[next++] } : spec));
}

const describe = (progress) =>
  `${progress.stage} ${Math.round(100 * progress.fraction)}% (${Math.round(progress.seconds)} s; once, then cached)`;

// Compute `method`'s plane of the split shown (or find it computed), showing how far it is; -> whether it is ready.
async function computed(method) {
  const status = $("plane-status");
  let progress = await api.startPlane(view.model, method, view.split);
  while (progress.state === "computing") {
    status.textContent = describe(progress);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    progress = await api.planeProgress(view.model, method, view.split);
  }
  status.textContent = progress.state === "failed" ? `could not compute it: ${progress.error}` : "";
  return progress.state === "ready";
}

// Show the map on `method`'s plane (computing it first if need be).
export async function choosePlane(method) {
  const model = view.model;
  if (method !== "pca" && !(await computed(method))) {
    $("plane").value = view.plane;
    return;
  }
  if (view.model !== model) return; // another model was chosen meanwhile
  view.plane = method;
  await loadModel(view.model);
  saveView();
}

export function init() {
  $("plane").addEventListener("change", (event) => guarded(() => choosePlane(event.target.value)));
  listen(EVENTS.mapShown, ({ map }) => {
    $("plane-control").hidden = map.plane.latent_plane;
    $("plane").value = view.plane;
    $("hover-how").textContent = nonlinear() ? `On ${map.plane.title}, the image is ${map.plane.lift}.` : "";
  });
}
