// Drawings and uploads: an image drawn on the pad or dropped is encoded; the page shows it as the model
// sees it, its reconstruction and nearest test images, and marks it on the map with its 2-sigma ellipse.
import * as api from "./api.js";
import { acceptImageFiles, createDrawPad } from "./drawpad.js";
import { EVENTS, emit, listen } from "./events.js";
import { addDrawing, clearOverlay, view } from "./explorer-map.js";
import { placedEncoding } from "./planes.js";
import { removePosterior, showPosterior } from "./true-posterior.js";
import { digitImage, figure, guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);

function showEncoding(result) {
  const { number, x, y, sigmaX, sigmaY } = addDrawing(result);
  const names = view.map.class_names;
  const neighbors = result.neighbors.map((n) =>
    figure(
      digitImage(api.imageUrl(view.map.dataset, n.index), `test image ${n.index}`, true),
      `${names[n.label]} (${n.distance.toFixed(2)})`,
    ),
  );
  const header = document.createElement("p");
  header.className = "muted";
  const spread = sigmaX === null
    ? `placed by ${view.map.plane.title}'s transform (no ellipse on a nonlinear plane)`
    : `sigma (${sigmaX.toFixed(2)}, ${sigmaY.toFixed(2)}); the dotted ellipse is 2 sigma`;
  header.textContent = `#${number} at (${x.toFixed(2)}, ${y.toFixed(2)}), ${spread}`;
  const images = document.createElement("div");
  images.className = "row";
  images.append(
    figure(digitImage(result.input, "your image as the model sees it"), `as seen (${view.dataset.image_shape.slice(1).join("x")})`),
    figure(digitImage(result.reconstruction, "its reconstruction"), "reconstruction"),
  );
  const near = document.createElement("div");
  near.className = "row neighbors";
  near.append(...neighbors);
  $("encoding").replaceChildren(header, images, near, typicalityNote(result.typicality));
  if (view.map.plane.latent_plane) showPosterior({ request: { image: result.input }, container: $("encoding") });
  emit(EVENTS.focus, { point: { image: result.input }, label: `image #${number}` });
}

// Where the image's log p(x) falls among the test images', with why that is no proof of belonging.
function typicalityNote(typicality) {
  const note = document.createElement("p");
  note.className = "muted";
  note.textContent = typicality
    ? `log p(x) = ${typicality.log_px.toFixed(1)} nats: above ${typicality.percentile.toFixed(1)}% of the test images. ${typicality.caveat}`
    : "Colour the map by a metric to see how typical this image is for the model (its log p(x) among the test images').";
  return note;
}

export function init() {
  const encodeAndShow = (image) =>
    guarded(async () => showEncoding(await placedEncoding(await api.encodeImage(view.model, image))));
  createDrawPad($("pad"), { brushInput: $("brush"), clearButton: $("clear-pad"), onStroke: encodeAndShow });
  acceptImageFiles($("dropzone"), $("upload"), encodeAndShow);
  $("clear-drawings").addEventListener("click", () => {
    clearOverlay();
    guarded(removePosterior);
  });
  listen(EVENTS.mapShown, () => $("encoding").replaceChildren());
}
