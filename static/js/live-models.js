// On every page: the training queue in a status line under the top bar, and each model that a job
// finishes added to the page's model picker, without a reload. Pages that show more listen for its
// events (events.js: queue, job, model).
import * as api from "./api.js";
import { followQueue } from "./job-watch.js";
import { EVENTS, emit, listen } from "./events.js";

const status = document.getElementById("training-status");

function describe(jobs, epoch) {
  const running = jobs.find((job) => job.state === "running");
  const queued = jobs.filter((job) => job.state === "queued").length;
  if (!running && !queued) return "";
  const parts = [];
  if (running) {
    const done = epoch ?? running.epochs_completed;
    parts.push(`Training ${running.title} (${running.model_id}): epoch ${done} of ${running.epochs}`);
  }
  if (queued) parts.push(`${queued} more queued`);
  return parts.join(" · ");
}

function showStatus(text) {
  status.hidden = !text;
  const link = document.createElement("a");
  link.href = `${api.ROOT}/train`;
  link.textContent = "follow on the Train page";
  status.replaceChildren(text, " — ", link);
}

// Add a served model to the page's picker (#model), under the group the server names, as
// _model_select.html builds them; every option takes the server's label (a new group prefixes them all).
function addToPicker(model, models) {
  const select = document.getElementById("model");
  if (!select || [...select.options].some((option) => option.value === model.id)) return;
  let group = [...select.querySelectorAll("optgroup")].find((g) => g.label === model.group);
  if (!group) {
    group = document.createElement("optgroup");
    group.label = model.group;
    select.append(group);
  }
  const option = document.createElement("option");
  option.value = model.id;
  Object.assign(option.dataset, {
    dataset: model.dataset,
    origin: model.origin.kind,
    objective: model.objective ?? "",
    iwaeK: model.iwae_k ?? "",
    binarized: String(Boolean(model.binarized)),
    epochs: model.epochs ?? "",
    likelihood: model.likelihood_label,
  });
  group.append(option);
  const labels = new Map(models.map((m) => [m.id, m.label]));
  for (const each of select.options) each.textContent = labels.get(each.value) ?? each.textContent;
}

let jobs = [];
if (status) {
  const queue = followQueue({
    change: (current) => {
      jobs = current;
      showStatus(describe(jobs));
      emit(EVENTS.queue, { jobs });
    },
    event: (job, type, data) => {
      if (type === "epoch") showStatus(describe(jobs, data.epoch));
      emit(EVENTS.job, { job, type, data });
    },
    finished: async (job, data) => {
      const kept = data.type === "done" || (data.type === "cancelled" && data.kept);
      if (!kept || job.kind !== "model") return;
      const models = await api.listModels();
      const model = models.find((m) => m.id === job.model_id);
      if (!model) return;
      addToPicker(model, models);
      emit(EVENTS.model, { job, model });
    },
  });
  listen(EVENTS.refresh, () => queue.refresh()); // a page queued or cancelled a job
}
