// Before the first model is served (a first run): the map of the model a job is training, drawn where the
// explorer's map will be, epoch by epoch; the explorer opens on the first model served.
import { EVENTS, listen } from "./events.js";
import { liveSnapshots } from "./job-watch.js";
import { evolutionFigure } from "./lab-figures.js";
import { PLOT_CONFIG } from "./map-traces.js";
import { guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const forming = { job: null, started: null, epochs: [] };

function showForming({ job, type, data }) {
  if (job.kind !== "model") return;
  if (type === "started") {
    Object.assign(forming, { job, started: data, epochs: [] });
    $("waiting-text").textContent = `${job.title} (${job.model_id}) is training; the explorer opens on it when it is done.`;
    return;
  }
  if (type !== "epoch" || forming.job?.id !== job.id) return;
  forming.epochs.push(data);
  $("waiting-text").textContent =
    `${job.title} (${job.model_id}) is training: its latent map after epoch ${data.epoch} of ${data.epochs} ` +
    `(test −ELBO ${data.test_neg_elbo.toFixed(1)} nats). The explorer opens on it when it is done.`;
  const figure = evolutionFigure(liveSnapshots(forming.started, forming.epochs), forming.started.class_names);
  guarded(() => Plotly.react($("waiting-map"), figure.data, { ...figure.layout, sliders: [], updatemenus: [] }, PLOT_CONFIG));
}

// Follow the training jobs until a model is served: then `open` the explorer on it.
export function waitForFirstModel(open) {
  const stopForming = listen(EVENTS.job, showForming);
  const stopWaiting = listen(EVENTS.model, ({ model }) => {
    stopForming();
    stopWaiting();
    $("model").value = model.id;
    Plotly.purge($("waiting-map"));
    $("map-waiting").remove();
    $("map").hidden = false;
    document.querySelectorAll("[data-needs-model]").forEach((element) => (element.hidden = false));
    open();
  });
}
