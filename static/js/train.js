// The Train page: queue a model, see the queue, cancel, and watch the running job's latent map form and
// its curves grow epoch by epoch (the events come through live-models.js, one stream per page).
import * as api from "./api.js";
import { liveSnapshots } from "./job-watch.js";
import { collapseWarning, curvesFigure, evolutionFigure, informationText } from "./lab-figures.js";
import { PLOT_CONFIG } from "./map-traces.js";
import { guarded, latestOnly } from "./ui.js";
import { EVENTS, emit, listen } from "./events.js";

const $ = (id) => document.getElementById(id);
const live = { jobId: null, started: null, epochs: [] };
let idEdited = false;
const WEIGHTED = JSON.parse($("train-loss").dataset.weighted); // the losses beta weighs a term of (model/config.py)

// --- the form ---------------------------------------------------------------------------------------
function choices() {
  const hidden = $("train-hidden").value.trim();
  const body = {
    dataset: $("train-dataset").value,
    loss: $("train-loss").value,
    latent_dim: Number($("train-latent").value),
    architecture: $("train-architecture").value,
    epochs: Number($("train-epochs").value),
    seed: Number($("train-seed").value),
    binarized: $("train-binarized").checked,
  };
  if (WEIGHTED.includes(body.loss)) body.beta = Number($("train-beta").value);
  if (body.loss === "iwae") body.iwae_k = Number($("train-iwae-k").value);
  if ($("train-likelihood").value) body.likelihood = $("train-likelihood").value;
  if (body.likelihood === "gaussian") body.likelihood_scale = Number($("train-scale").value);
  if (hidden) body.hidden = hidden.split(",").map((width) => Number(width.trim()));
  return body;
}

// The id the server suggests for these choices, unless the user typed one (a choice the server refuses
// is said when the model is queued).
const suggestId = latestOnly(async () => {
  try {
    const { model_id: suggested } = await api.suggestModel(choices());
    if (!idEdited) $("train-id").value = suggested;
  } catch {
    // the form says what is wrong when it is sent
  }
});

function syncForm() {
  $("beta-field").hidden = !WEIGHTED.includes($("train-loss").value);
  $("iwae-field").hidden = $("train-loss").value !== "iwae";
  $("scale-field").hidden = $("train-likelihood").value !== "gaussian";
  if (!idEdited) suggestId(true);
}

const request = () => ({ ...choices(), model_id: $("train-id").value.trim(), replace: $("train-replace").checked });

$("train-form").addEventListener("input", (event) => {
  if (event.target.id === "train-id") idEdited = $("train-id").value !== "";
  syncForm();
});
$("train-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    await api.submitJob(request());
    idEdited = false;
    emit(EVENTS.refresh);
  });
});
syncForm();

// --- the queue --------------------------------------------------------------------------------------
function cancelButton(job, label, keep) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", () =>
    guarded(async () => {
      await api.cancelJob(job.id, keep);
      emit(EVENTS.refresh);
    }),
  );
  return button;
}

function jobRow(job) {
  const row = document.createElement("tr");
  row.dataset.job = String(job.id);
  row.dataset.state = job.state;
  const trained = job.kind === "classifier" ? "its classifier" : job.model_id;
  const cells = [String(job.id), trained, job.dataset, job.cancelling ? "stopping" : job.state, `${job.epochs_completed} / ${job.epochs}`];
  for (const text of cells) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.append(cell);
  }
  const actions = document.createElement("td");
  if (job.state === "queued" || (job.state === "running" && !job.cancelling)) {
    actions.append(cancelButton(job, "Cancel", false));
    if (job.state === "running" && job.kind === "model") actions.append(" ", cancelButton(job, "Stop and keep", true));
  } else {
    if (job.state === "done" && job.kind === "model") {
      const link = document.createElement("a");
      link.href = `${api.ROOT}/?model=${encodeURIComponent(job.model_id)}`;
      link.textContent = "explore";
      actions.append(link, " ");
    }
    actions.append(cancelButton(job, "Remove", false)); // an ended job leaves the list; its model stays
  }
  if (job.message) {
    row.cells[3].title = job.message;
    row.cells[3].className = job.state === "failed" ? "failed" : "";
    row.cells[3].textContent += job.state === "failed" ? `: ${job.message}` : "";
  }
  row.append(actions);
  return row;
}

listen(EVENTS.queue, ({ jobs: current }) => {
  const jobs = [...current].reverse(); // newest first
  syncForm(); // a job's id is taken now: the suggestion moves on
  $("jobs").replaceChildren(...jobs.map(jobRow));
  $("no-jobs").hidden = jobs.length > 0;
  const running = jobs.find((job) => job.state === "running");
  if (!running && live.jobId !== null) {
    const ended = jobs.find((job) => job.id === live.jobId);
    if (ended) $("live-title").textContent = `${ended.title} (${ended.model_id}): ${ended.state}`;
  }
});

// --- the running job, live --------------------------------------------------------------------------
function termsText(job, e) {
  const split = e.test_mutual_information === undefined ? "" : ` (I(x; z) ${informationText(e.test_mutual_information)} ` +
    `of at most ${e.test_information_bound.toFixed(2)} + KL(q(z) ‖ p(z)) ${e.test_marginal_kl.toFixed(2)})`;
  return `Epoch ${e.epoch} of ${e.epochs}: test −ELBO ${e.test_neg_elbo.toFixed(2)} nats = reconstruction ` +
    `${e.test_reconstruction_nll.toFixed(2)} + KL ${e.test_kl.toFixed(2)}${split} · ${e.test_active_units} active units · ` +
    `train −ELBO ${e.train_neg_elbo.toFixed(2)} · ${Math.round(e.images_per_second).toLocaleString()} images/s`;
}

async function drawLive(job) {
  const snapshots = liveSnapshots(live.started, live.epochs);
  const map = evolutionFigure(snapshots, live.started.class_names);
  await Plotly.react($("live-map"), map.data, map.layout, PLOT_CONFIG);
  await Plotly.addFrames($("live-map"), map.frames);
  const curves = curvesFigure({ epochs: live.epochs });
  await Plotly.react($("live-curves"), curves.data, curves.layout, PLOT_CONFIG);
  $("live-map").dataset.epochs = String(live.epochs.length);
  $("live-terms").textContent = termsText(job, live.epochs.at(-1));
  const warning = collapseWarning(live.epochs);
  $("live-warning").textContent = warning;
  $("live-warning").hidden = !warning;
}

listen(EVENTS.job, ({ job, type, data }) => {
  if (job.kind !== "model") return;
  if (type === "started") {
    if (live.jobId !== job.id) {
      Object.assign(live, { jobId: job.id, epochs: [] });
      $("live-warning").hidden = true;
    }
    live.started = data;
    $("live-title").textContent = `${job.title} (${job.model_id}) on ${job.dataset}: training`;
    if (live.epochs.length === 0) $("live-terms").textContent = `Started: ${data.epochs} epochs; the first map comes when the first epoch ends.`;
    return;
  }
  if (type === "epoch" && live.started) {
    live.epochs = [...live.epochs.filter((e) => e.epoch < data.epoch), data];
    guarded(() => drawLive(job));
  }
});
