// Pure builders of the latent page's figures and labels (static/js/latent.js draws them).

// A dimension as the picker names it: its name, its KL and whether it is dead.
export const dimensionLabel = (d) => `${d.name}: KL ${d.kl.toFixed(2)} nats${d.active ? "" : ", dead"}`;

// The histogram of each test image's KL(q(z_d|x) || N(0, 1)), bars over the server's bins.
export function klHistogramFigure(profile) {
  const edges = profile.kl_edges;
  const centres = profile.kl_counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  return {
    data: [{
      type: "bar", x: centres, y: profile.kl_counts, width: edges[1] - edges[0], marker: { color: "#5b7be0" },
      hovertemplate: "KL %{x:.2f} nats: %{y} images<extra></extra>",
    }],
    layout: {
      margin: { l: 50, r: 10, t: 10, b: 45 }, bargap: 0,
      xaxis: { title: { text: "KL(q(z_d|x) ‖ N(0, 1)), nats" } }, yaxis: { title: { text: "test images" } },
    },
  };
}

// Pearson's r of the posterior mean along the dimension with each class, one bar per class.
export function correlationFigure(profile) {
  const r = profile.class_correlation.map((c) => c.r);
  return {
    data: [{
      type: "bar", x: profile.class_correlation.map((c) => c.name), y: r,
      marker: { color: r.map((value) => (value >= 0 ? "#2166ac" : "#b2182b")) },
      hovertemplate: "class %{x}: r = %{y:.3f}<extra></extra>",
    }],
    layout: {
      margin: { l: 50, r: 10, t: 10, b: 45 },
      xaxis: { title: { text: "class" }, type: "category" }, yaxis: { title: { text: "r" }, range: [-1, 1] },
    },
  };
}

// How much of each known factor the dimension carries (MIG's normalised mutual information), one bar each.
export function factorFigure(profile) {
  return {
    data: [{
      type: "bar", x: profile.factor_information.map((f) => f.name), y: profile.factor_information.map((f) => f.information),
      marker: { color: "#5b7be0" }, hovertemplate: "%{x}: %{y:.3f} of its entropy<extra></extra>",
    }],
    layout: {
      margin: { l: 50, r: 10, t: 10, b: 45 },
      xaxis: { title: { text: "factor" }, type: "category" }, yaxis: { title: { text: "I(z_d; factor) / H(factor)" }, range: [0, 1] },
    },
  };
}

// What the dimension amounts to, in words.
export function summaryText(profile, latentDim) {
  const d = profile.dimension;
  const use = d.active
    ? `active: its posterior mean varies across images (Cov_x(E_q[z]) = ${d.activity.toPrecision(3)})`
    : `dead: the encoder does not use it (Cov_x(E_q[z]) = ${d.activity.toPrecision(3)} ≤ 0.01), so every image decodes alike along it`;
  return `${d.name} carries ${d.kl.toFixed(2)} nats of KL per test image on average, ${ordinal(profile.rank)} of ${latentDim} dimensions; ${use}.`;
}

function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th");
  return `the ${n}${suffix}`;
}
