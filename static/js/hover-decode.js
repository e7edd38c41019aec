// Live decoding under the cursor, shared by the explorer and the compare page: every mouse move over a
// map asks the server for the decoded image at that point (the latest only, at most one per frame).
import * as api from "./api.js";
import { EVENTS, emit } from "./events.js";
import { cursorToData } from "./map-traces.js";
import { guarded, latestOnly } from "./ui.js";

// Decode at the cursor over `graph` into `image`, writing the point into `coords`. `current()` returns
// { model, limit, plane, split } for the map shown now (the server decodes |x|, |y| up to `limit`; plane
// and split name a UMAP or t-SNE plane, where the latent is an estimate). Returns the decode function,
// to decode a point without a mouse move.
export function wireHoverDecoding(graph, { image, coords, current }) {
  let url = null;
  const decode = latestOnly((p) =>
    guarded(async () => {
      const { model, plane = "pca", split = "test" } = current();
      const next = await api.decodeAt(model, p.x, p.y, { plane, split });
      if (url) URL.revokeObjectURL(url);
      url = next;
      image.src = next;
      coords.textContent = `x ${p.x.toFixed(2)}, y ${p.y.toFixed(2)}${plane === "pca" ? "" : " (estimate)"}`;
      emit(EVENTS.hovered, { x: p.x, y: p.y });
    }),
  );
  graph.addEventListener("mousemove", (event) => {
    const p = cursorToData(graph, event);
    const { limit } = current();
    if (p && Math.abs(p.x) <= limit && Math.abs(p.y) <= limit) decode(p);
  });
  return decode;
}
