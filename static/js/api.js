// One async function per endpoint. Each throws ApiError with the server's own message on failure.

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${detail} (HTTP ${status})`);
    this.status = status;
    this.detail = detail;
  }
}

async function call(url, options = {}) {
  const response = await fetch(url, options);
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail ?? detail;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, detail);
  }
  return response;
}

const getJson = async (url, options) => (await call(url, options)).json();
const POST = { method: "POST" };

const json = (body) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});
// Where the server's paths start: "" or, behind a proxy (Jupyter's, for a remote notebook), its prefix.
export const ROOT = document.querySelector('meta[name="atlas-root"]')?.content ?? "";
const base = (model) => `${ROOT}/api/models/${encodeURIComponent(model)}`;

// A split's map ("test", "train" or "all": the test images, then the training ones), its first `limit` points.
// On `plane` "umap" or "tsne" once computed (see startPlane).
export async function getMap(model, { limit = 200000, split = "test", plane = "pca" } = {}) {
  return (await call(`${base(model)}/map?${new URLSearchParams({ limit, split, plane })}`)).json();
}

// A split's encoding on the server, run in the background: start it (once), or how far it is.
export const startEncoding = (model, split) => getJson(`${base(model)}/encodings?split=${split}`, POST);

export const encodingProgress = (model, split) => getJson(`${base(model)}/encodings?split=${split}`);

// What a view ({ x: [x0, x1], y: [y0, y1], pixels wide }) of a map drawn as density holds: { count, tiles, points }.
export async function getMapView(model, split, { x, y, pixels }) {
  return (await call(`${base(model)}/map/view?${new URLSearchParams({ split, x: x.join(","), y: y.join(","), pixels })}`)).json();
}

// A density tile's address: `tile` as map/view gives it, `colors` one "rrggbb" (or "") per class.
export const tileUrl = (model, split, tile, colors) =>
  `${base(model)}/map/tiles/${tile.zoom}/${tile.i}/${tile.j}.png?${new URLSearchParams({ split, colors })}`;

// A UMAP or t-SNE plane of a split's encodings: start computing it (once), or how far it is.
export const startPlane = (model, method, split) => getJson(`${base(model)}/planes/${method}?split=${split}`, POST);

export const planeProgress = (model, method, split) => getJson(`${base(model)}/planes/${method}?split=${split}`);

// Each point's log p(x), ELBO, reconstruction error, KL and posterior entropy for a split's map: start
// computing them (once), how far they are, and their values ({ metrics, values: { name: [...] } }).
export const startPointMetrics = (model, split) => getJson(`${base(model)}/point-metrics?split=${split}`, POST);

export const pointMetricsProgress = (model, split) => getJson(`${base(model)}/point-metrics/progress?split=${split}`);

export const getPointMetrics = (model, split) => getJson(`${base(model)}/point-metrics?split=${split}`);

// Latents [[z...]] -> their places on a computed plane, by the method's own transform.
export async function placeOnPlane(model, method, split, z) {
  return (await call(`${base(model)}/planes/${method}/place?split=${split}`, json({ z }))).json();
}

// Map points [[x, y]] of a computed plane -> their estimated latents ({ z, nearest, how }).
export async function liftFromPlane(model, method, split, points) {
  return (await call(`${base(model)}/planes/${method}/lift?split=${split}`, json({ points }))).json();
}

// The decoded image at map point (x, y), as an object URL (the caller revokes it).
// On a UMAP or t-SNE plane ({ plane, split }), the latent decoded is an estimate from the nearest encodings.
export async function decodeAt(model, x, y, { plane = "pca", split = "test" } = {}) {
  const where = plane === "pca" ? "" : `&plane=${plane}&split=${split}`;
  const response = await call(`${base(model)}/decode.png?x=${x.toFixed(4)}&y=${y.toFixed(4)}${where}`);
  return URL.createObjectURL(await response.blob());
}

export async function decodePoints(model, points) {
  return (await call(`${base(model)}/decode`, json({ points }))).json();
}

// An image file or blob (a drawing) -> its encoding: q(z|x), its map point and ellipse, reconstruction,
// nearest test images.
export async function encodeImage(model, image) {
  const form = new FormData();
  form.append("file", image, image.name ?? "drawing.png");
  return (await call(`${base(model)}/encode`, { method: "POST", body: form })).json();
}

// The true posterior of a 2-D model for { index } (a test image) or { image } (a data URL).
export async function getPosterior(model, body) {
  return (await call(`${base(model)}/posterior`, json(body))).json();
}

// The interpolation strip (the body /interpolate takes) as a file: format "png" or "gif".
export async function interpolationFile(model, body, format) {
  return (await call(`${base(model)}/interpolate.${format}`, json(body))).blob();
}

// The traversal grid around `body.centre` (a point named as an interpolation's end; none: the prior mean).
// A model's latent dimensions by KL, and one dimension's profile over the test images.
export const getDimensions = (model) => getJson(`${base(model)}/dimensions`);

export const getDimensionProfile = (model, dim) => getJson(`${base(model)}/dimensions/${dim}`);

export async function getTraversal(model, body) {
  return (await call(`${base(model)}/traversal`, json(body))).json();
}

// The strip to + s (mean(a) - mean(b)), s from 0 to body.strength; groups are { label } or { indices }.
export async function latentArithmetic(model, body) {
  return (await call(`${base(model)}/arithmetic`, json(body))).json();
}

// A selection (positions on the map of `split`): its size, class counts and decoded mean encoding.
export async function summariseSelection(model, indices, split) {
  return (await call(`${base(model)}/selection`, json({ indices, split }))).json();
}

// The points of a split's map inside a polygon [[x, y], ...] (a box or lasso over density tiles), of the
// classes `labels` only: { count, indices }.
export async function selectRegion(model, polygon, split, labels) {
  return (await call(`${base(model)}/selection/region`, json({ polygon, split, labels }))).json();
}

// The same selection as a CSV blob: index, split, label, map x, y, z1..zD.
export async function selectionCsv(model, indices, split) {
  return (await call(`${base(model)}/selection.csv`, json({ indices, split }))).blob();
}

// Each end is { index }, { z }, { point: [x, y] } (a map point), { image } (a data URL) or { label } (a
// class name); `via` are the ends passed through between start and end, in order.
export async function interpolate(model, start, end, steps, method, via = []) {
  return (await call(`${base(model)}/interpolate`, json({ start, via, end, steps, method }))).json();
}

// source "prior" draws z ~ N(0, I); "aggregate" draws from q(z), the training images' posteriors.
export async function samples(model, n = 16, seed = 0, source = "prior") {
  return (await call(`${base(model)}/samples?${new URLSearchParams({ n, seed, source })}`)).json();
}

export function gridUrl(model, params) {
  return `${base(model)}/grid.png?${new URLSearchParams(params)}`;
}

// One original image of a data set (by its key) as a PNG URL.
export function imageUrl(dataset, index, split = "test") {
  return `${ROOT}/api/datasets/${encodeURIComponent(dataset)}/${split}/${index}.png`;
}

// --- the lab ---------------------------------------------------------------------------------------
export async function getHistory(model) {
  return (await call(`${base(model)}/history`)).json();
}

export async function getSnapshots(model) {
  return (await call(`${base(model)}/snapshots`)).json();
}

export async function getSweep() {
  return (await call(`${ROOT}/api/sweep`)).json();
}

export async function getEstimators(model, samples) {
  return (await call(`${base(model)}/estimators?samples=${samples.join(",")}`)).json();
}

// compute=false answers 204 (null here) instead of starting a computation of a minute or two.
export async function getEvaluation(model, compute) {
  const response = await call(`${base(model)}/evaluation?compute=${compute}`);
  return response.status === 204 ? null : response.json();
}

// Stop the model's running evaluation (its waiting request answers 409).
export async function cancelEvaluation(model) {
  await call(`${base(model)}/evaluation`, { method: "DELETE" });
}

// The running evaluation's progress: onProgress({stage, fraction}) until it ends; returns the stream's closer.
export function followEvaluation(model, onProgress) {
  const source = new EventSource(`${base(model)}/evaluation/progress`);
  source.addEventListener("progress", (event) => onProgress(JSON.parse(event.data)));
  source.addEventListener("ended", () => source.close());
  return () => source.close();
}

// Disentanglement scores: a model's, started in the background; a data set's sweep of models.
export const startDisentanglement = (model) => getJson(`${base(model)}/disentanglement`, POST);
export const disentanglementProgress = (model) => getJson(`${base(model)}/disentanglement/progress`);
export const getDisentanglement = (model) => getJson(`${base(model)}/disentanglement`);
const sweepUrl = (dataset) => `${ROOT}/api/disentanglement/sweep?dataset=${encodeURIComponent(dataset)}`;
export const getDisentanglementSweep = (dataset) => getJson(sweepUrl(dataset));
export const scoreDisentanglementSweep = (dataset) => getJson(sweepUrl(dataset), POST);
export const getPriorHoles = (model, params) => getJson(`${base(model)}/prior-holes?${new URLSearchParams(params)}`);

export const getDecisionMap = (model, params) => getJson(`${base(model)}/decision-map?${new URLSearchParams(params)}`);

export async function listModels() {
  return (await call(`${ROOT}/api/models`)).json();
}

export async function listJobs() {
  return (await call(`${ROOT}/api/jobs`)).json();
}

// A training request (see TrainingRequest at /docs) -> the queued job.
export async function submitJob(request) {
  return (await call(`${ROOT}/api/jobs`, json(request))).json();
}

// A model's choices (TrainingRequest without its id) -> { model_id, title } a new model of them would get.
export async function suggestModel(choices) {
  return (await call(`${ROOT}/api/jobs/suggestion`, json(choices))).json();
}

// Queue whatever of a zoo ("default" or "beta") of a data set is missing -> the queued jobs.
export async function submitZoo(zoo, dataset = "mnist") {
  return (await call(`${ROOT}/api/jobs/zoo`, json({ zoo, dataset }))).json();
}

// Cancel a queued or running job (-> the job), or remove an ended one from the list (-> null).
export async function cancelJob(id, keep = false) {
  const response = await call(`${ROOT}/api/jobs/${id}?keep=${keep}`, { method: "DELETE" });
  return response.status === 204 ? null : response.json();
}

// The job's Server-Sent Events: started, epoch..., then done, failed or cancelled.
export const jobEventsUrl = (id) => `${ROOT}/api/jobs/${id}/events`;

// The map as shown, as one self-contained HTML file ({ split, plane, x_range, y_range }).
export const exportUrl = (model, params) => `${base(model)}/export.html?${new URLSearchParams(params)}`;

// The view the explorer shows, told to its server for a notebook to read; the images a notebook highlights.
export async function reportView(model, report) {
  await call(`${base(model)}/view`, { ...json(report), method: "PUT" });
}

export async function getHighlight(model) {
  return (await call(`${base(model)}/highlight`)).json();
}
