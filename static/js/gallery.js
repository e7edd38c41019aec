// Below the map: the decoded grid over the prior's quantiles (Kingma & Welling, Fig. 4) and decoded draws
// from the prior, drawn anew on request.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { view } from "./explorer-map.js";
import { digitImage, guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);

async function loadGallery() {
  $("grid").src = api.gridUrl(view.model, { n: 15 });
  const drawn = await api.samples(view.model, 16, Math.floor(Math.random() * 1e6));
  $("samples").replaceChildren(...drawn.images.map((src, i) => digitImage(src, `prior sample ${i + 1}`, true)));
}

export function init() {
  $("resample").addEventListener("click", () => guarded(loadGallery));
  listen(EVENTS.mapShown, () => guarded(loadGallery)); // below the fold: the map does not wait for it
}
