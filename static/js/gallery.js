// Below the map: the decoded grid over the prior's quantiles (Kingma & Welling, Fig. 4), and decoded draws
// from the prior beside draws from the aggregate posterior q(z) (which avoid the prior's holes), each with
// its Frechet distance to the test images when the lab has evaluated the model; drawn anew on request.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { view } from "./explorer-map.js";
import { digitImage, guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const SAMPLES = 16;

async function showSamples(model, source, element, seed) {
  const drawn = await api.samples(model, SAMPLES, seed, source);
  element.replaceChildren(...drawn.images.map((src, i) => digitImage(src, `${source} sample ${i + 1}`, true)));
  return drawn.frechet_distance;
}

// Each set's FID, from the model's evaluation if the lab has computed it (never started from here: it
// takes a minute or two); a model with no classifier for its data has none.
function showDistances(model, prior, aggregate) {
  const lab = `<a href="${api.ROOT}/lab?model=${encodeURIComponent(model)}">the lab</a>`;
  $("fid-note").innerHTML = prior !== null
    ? `Fréchet distance to the test images (lower is better, from ${lab}'s evaluation): prior samples ` +
      `${prior.toFixed(1)}, aggregate-posterior samples ${aggregate.toFixed(1)}.`
    : `Evaluate this model in ${lab} for each set's Fréchet distance to the test images.`;
}

async function loadGallery() {
  const model = view.model;
  $("grid").src = api.gridUrl(model, { n: 15 });
  const seed = Math.floor(Math.random() * 1e6);
  const [prior, aggregate] = await Promise.all([
    showSamples(model, "prior", $("samples"), seed),
    showSamples(model, "aggregate", $("aggregate-samples"), seed),
  ]);
  if (model === view.model) showDistances(model, prior, aggregate);
}

export function init() {
  $("resample").addEventListener("click", () => guarded(loadGallery));
  listen(EVENTS.mapShown, () => guarded(loadGallery)); // below the fold: the map does not wait for it
}
