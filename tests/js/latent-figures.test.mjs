// The latent page's figures (static/js/latent-figures.js).
import assert from "node:assert/strict";
import test from "node:test";

import { correlationFigure, dimensionLabel, factorFigure, klHistogramFigure, summaryText } from "../../static/js/latent-figures.js";

const profile = {
  rank: 2,
  dimension: { dim: 4, name: "z5", kl: 1.234, activity: 0.5, active: true },
  kl_edges: [0, 0.5, 1, 1.5],
  kl_counts: [3, 0, 7],
  class_correlation: [{ label: 0, name: "0", r: 0.4 }, { label: 1, name: "1", r: -0.2 }],
};

test("the KL histogram puts each count at its bin's centre, bars as wide as the bins", () => {
  const [bars] = klHistogramFigure(profile).data;
  assert.deepEqual(bars.x, [0.25, 0.75, 1.25]);
  assert.deepEqual(bars.y, [3, 0, 7]);
  assert.equal(bars.width, 0.5);
});

test("the correlations are one bar per class, coloured by sign, on r's whole range", () => {
  const figure = correlationFigure(profile);
  assert.deepEqual(figure.data[0].x, ["0", "1"]);
  assert.deepEqual(figure.data[0].marker.color, ["#2166ac", "#b2182b"]);
  assert.deepEqual(figure.layout.yaxis.range, [-1, 1]);
});

test("a dimension is named with its KL, dead ones said so", () => {
  assert.equal(dimensionLabel(profile.dimension), "z5: KL 1.23 nats");
  assert.equal(dimensionLabel({ ...profile.dimension, active: false, kl: 0 }), "z5: KL 0.00 nats, dead");
});

test("the summary ranks the dimension and says whether the encoder uses it", () => {
  assert.match(summaryText(profile, 16), /^z5 carries 1\.23 nats of KL per test image on average, the 2nd of 16 dimensions; active/);
  assert.match(summaryText({ ...profile, rank: 12 }, 16), /the 12th of 16/);
  const dead = { ...profile, dimension: { ...profile.dimension, active: false, activity: 0.001 } };
  assert.match(summaryText(dead, 16), /dead: the encoder does not use it/);
});

test("a set of known factors shows how much of each the dimension carries, on [0, 1]", () => {
  const figure = factorFigure({ factor_information: [{ name: "shape", information: 0.1 }, { name: "x", information: 0.8 }] });
  assert.deepEqual(figure.data[0].x, ["shape", "x"]);
  assert.deepEqual(figure.data[0].y, [0.1, 0.8]);
  assert.deepEqual(figure.layout.yaxis.range, [0, 1]);
});
