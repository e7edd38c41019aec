// The lab's disentanglement figures (static/js/disentanglement-figures.js).
import assert from "node:assert/strict";
import test from "node:test";

import { informationFigure, scoreRows, spreadText, sweepFigures, sweepStatus } from "../../static/js/disentanglement-figures.js";

const metrics = [
  { name: "mig", title: "MIG", description: "gap" },
  { name: "sap", title: "SAP", description: "separated" },
];
const result = {
  factors: ["shape", "scale", "x"],
  metrics,
  figures: { mig: 0.31234, sap: 0.05 },
  seeds: { mig: { mean: 0.2, standard_error: 0.05, seeds: 3 }, sap: { mean: 0.05, standard_error: null, seeds: 1 } },
  // [D = 2][K = 3]
  information: [[0.9, 0.1, 0.0], [0.05, 0.2, 0.7]],
};

test("a score reads with its spread over seeds, one seed said so", () => {
  assert.equal(spreadText(result.seeds.mig), "0.200 ± 0.050 (3 seeds)");
  assert.equal(spreadText(result.seeds.sap), "0.050 (1 seed)");
  assert.deepEqual(scoreRows(result).map((row) => [row.title, row.value]), [["MIG", "0.312"], ["SAP", "0.050"]]);
});

test("the matrix has a row per factor and a column per latent, each cell I[d][k] with its latent's index", () => {
  const [heatmap] = informationFigure(result).data;
  assert.deepEqual(heatmap.y, ["shape", "scale", "x"]);
  assert.deepEqual(heatmap.x, ["z0", "z1"]);
  assert.deepEqual(heatmap.z, [[0.9, 0.05], [0.1, 0.2], [0.0, 0.7]]);
  assert.deepEqual(heatmap.customdata[2], [0, 1]);
  assert.equal(heatmap.zmin, 0);
  assert.equal(heatmap.zmax, 1);
});

const model = (id, loss, beta, seed, mig, reconstruction) => ({
  model_id: id, loss, beta, seed, reconstruction_nll: reconstruction, state: mig === null ? "absent" : "ready",
  figures: mig === null ? null : { mig, sap: 0 },
});
const sweep = {
  metrics,
  models: [
    model("vae-s0", "full", 1, 0, 0.1, 30),
    model("vae-s1", "full", 1, 1, 0.3, 32),
    model("tc-s0", "tcvae", 6, 0, 0.5, 40),
    model("tc-s1", "tcvae", 6, 1, null, 41),
  ],
};

test("the sweep draws each scored model against beta by objective, with the seeds' mean and standard error", () => {
  const { byBeta, byReconstruction } = sweepFigures(sweep, "mig");
  const points = byBeta.data.filter((trace) => trace.mode === "markers" && !trace.error_y);
  assert.deepEqual(points.map((trace) => trace.name), ["VAE", "β-TCVAE"]);
  assert.deepEqual(points[0].customdata, ["vae-s0", "vae-s1"]);
  assert.deepEqual(points[1].x, [6]); // the unscored seed is left out
  const [means] = byBeta.data.filter((trace) => trace.error_y);
  assert.deepEqual(means.x, [1]); // only a recipe of several scored seeds has a spread
  assert.ok(Math.abs(means.y[0] - 0.2) < 1e-12);
  // sd of (0.1, 0.3) is 0.1414; over sqrt(2): 0.1
  assert.ok(Math.abs(means.error_y.array[0] - 0.1) < 1e-12);
  assert.deepEqual(byReconstruction.data[0].x, [30, 32]);
  assert.equal(byBeta.layout.yaxis.title.text, "MIG");
});

test("the sweep's status counts the models scored and being scored", () => {
  const computing = { ...sweep, models: [...sweep.models, { ...sweep.models[3], state: "computing" }] };
  assert.equal(sweepStatus(computing), "3 of 5 models scored; 1 being scored, one at a time");
});
