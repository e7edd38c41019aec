// The true posterior p(z|x) of a pinned, drawn or uploaded image under a 2-D model, by quadrature: its
// contours on the map and, in a note, log p(x) beside the ELBO, the IWAE bound and the exact gap.
import * as api from "./api.js";
import { view } from "./explorer-map.js";
import { traceIndex } from "./map-traces.js";
import { POSTERIOR_TRACE, posteriorTrace } from "./overlay-traces.js";
import { guarded, latestOnly } from "./ui.js";

const nats = (value) => `${value.toFixed(2)} nats`;

function posteriorText(p) {
  return `True posterior p(z|x), the contours (by quadrature, converged to ${p.change.toFixed(3)} nats): ` +
    `log p(x) = ${nats(p.log_px)}. ELBO = ${nats(p.elbo)} (${p.elbo_samples} draws), IWAE bound (k = ${p.iwae_k}) = ` +
    `${nats(p.iwae)}. The exact gap KL(q(z|x) ‖ p(z|x)) = log p(x) − ELBO = ${nats(p.gap)}; ` +
    `IWAE recovers ${nats(p.iwae - p.elbo)} of it.`;
}

export async function removePosterior() {
  const index = traceIndex(view.graph, POSTERIOR_TRACE);
  if (index >= 0) await Plotly.deleteTraces(view.graph, index);
}

// For an image (request { image }: a drawing or upload) or a data set image ({ index, split }: a pin)
// under a 2-D model, its note going at the end of `container`; the contours are the latest image's.
export const showPosterior = latestOnly(({ request, container }) =>
  guarded(async () => {
    const model = view.model;
    const note = document.createElement("p");
    note.className = "muted posterior-note";
    note.textContent = "Computing the true posterior p(z|x) on a grid over the plane…";
    container.append(note);
    const posterior = await api.getPosterior(model, request);
    if (model !== view.model) return;
    await removePosterior();
    await Plotly.addTraces(view.graph, posteriorTrace(posterior));
    note.textContent = posteriorText(posterior);
    view.graph.dataset.posterior = posterior.log_px.toFixed(2);
  }),
);
