// Pins: a clicked point's decode beside its original image (and, under a 2-D model, its true posterior);
// the pinned points are kept in the URL.
import * as api from "./api.js";
import { EVENTS, emit, listen } from "./events.js";
import { SPLIT_NAMES, keepInView, saveView, view } from "./explorer-map.js";
import { imageOf } from "./map-traces.js";
import { showPosterior } from "./true-posterior.js";
import { digitImage, figure, guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);
const pins = { count: 0, positions: [] }; // count: pins made on this page, numbering them

async function pin(x, y, position, label) {
  const { split, index } = imageOf(view.map, position);
  const url = await api.decodeAt(view.model, x, y);
  pins.count += 1;
  const images = document.createElement("div");
  images.className = "row";
  const name = view.map.class_names[label];
  images.append(
    figure(digitImage(url, `decoded at ${x.toFixed(2)}, ${y.toFixed(2)}`, true), `#${pins.count} decoded`),
    figure(
      digitImage(api.imageUrl(view.map.dataset, index, split), `${split} image ${index}`, true),
      `${SPLIT_NAMES[split]} ${index}: ${name}`,
    ),
  );
  const entry = document.createElement("div");
  entry.className = "pin";
  entry.append(images);
  $("pins").prepend(entry);
  pins.positions.push(position);
  saveView();
  if (view.map.plane.latent_plane) showPosterior({ request: { index, split }, container: entry }); // 2-D
  emit(EVENTS.focus, { point: { index, split }, label: `${SPLIT_NAMES[split]} ${index} (${name})` });
}

// The pins a view names (positions on its split's map), pinned again in order.
export async function restorePins(positions) {
  const known = (p) => Number.isInteger(p) && p >= 0 && p < view.map.x.length;
  for (const position of positions.filter(known)) await pin(view.map.x[position], view.map.y[position], position, view.map.label[position]);
}

export function init() {
  keepInView("pins", () => pins.positions);
  listen(EVENTS.mapShown, () => {
    pins.positions = [];
    $("pins").replaceChildren();
  });
  listen(EVENTS.pointClicked, ({ x, y, position, label }) => guarded(() => pin(x, y, position, label)));
}
