// The lab's figures (static/js/lab-figures.js), built from records shaped as the API sends them.
import assert from "node:assert/strict";
import test from "node:test";

import { collapseWarning, curvesFigure, evolutionFigure, rateDistortionTraces } from "../../static/js/lab-figures.js";

const record = (epoch) => ({
  epoch, train_neg_elbo: 200 - epoch, test_neg_elbo: 201 - epoch, train_reconstruction_nll: 190 - epoch,
  test_reconstruction_nll: 191 - epoch, train_kl: 10 + epoch, test_kl: 10.5 + epoch,
});

test("the curves show each part of the ELBO for both splits, on an axis of its own", () => {
  const history = { epochs: [1, 2, 3].map(record) };
  const { data, layout } = curvesFigure(history);
  assert.equal(data.length, 6);
  const kl = data.filter((t) => t.yaxis === "y3");
  assert.deepEqual(kl.map((t) => t.name), ["train", "test"]);
  assert.deepEqual(kl[1].y, [11.5, 12.5, 13.5]);
  assert.deepEqual(data.filter((t) => t.showlegend).map((t) => t.name), ["train", "test"]); // one legend
  assert.equal(curvesFigure(history, { stacked: true }).layout.grid.rows, 3);
  assert.equal(layout.grid.columns, 3);
});

const measured = (epoch, information, units = 2) => ({
  ...record(epoch), test_mutual_information: information, test_marginal_kl: 10.5 + epoch - information,
  test_information_bound: Math.log(1000), test_active_units: units,
});

test("the KL panel splits the test KL term into I(x; z) and KL(q(z) || p(z)) where the epochs measured them", () => {
  const history = { epochs: [record(1), measured(2, 4), measured(3, 5)] }; // the first from an older record
  const split = curvesFigure(history).data.filter((t) => t.yaxis === "y3").slice(2);
  assert.deepEqual(split.map((t) => t.name), ["I(x; z)", "KL(q(z) ‖ p(z))", "bound on I: log N"]);
  assert.deepEqual(split[0].x, [2, 3]);
  assert.deepEqual(split.map((t) => t.y[1]), [5, 8.5, Math.log(1000)]); // 5 + 8.5 = the test KL, 13.5
  assert.equal(curvesFigure({ epochs: [record(1)] }).data.length, 6); // nothing to split: no extra lines
});

test("a collapse is said when units die, when I(x; z) halves, or when it is next to nothing", () => {
  assert.equal(collapseWarning([measured(1, 3), measured(2, 3.2)]), "");
  assert.equal(collapseWarning([measured(1, 3, 2), measured(2, 3, 1)]), "Latent units died: 1 active now, 2 at epoch 1.");
  assert.match(collapseWarning([measured(1, 3), measured(2, 1.2)]), /^I\(x; z\) fell from 3\.00 nats \(epoch 1\) to 1\.20/);
  assert.match(collapseWarning([measured(1, 0.01)]), /^Posterior collapse: I\(x; z\) is 0\.010 nats/);
  assert.match(collapseWarning([measured(1, -0.002)]), /is 0\.000 nats/); // the estimate's noise below 0: none
  assert.equal(collapseWarning([record(1), record(2)].map((e) => ({ ...e, test_active_units: 2 }))), ""); // older records
  assert.equal(collapseWarning([]), "");
});

test("each epoch is a frame of the snapshot digits, grouped by class", () => {
  const snapshots = { label: [1, 0, 1], epochs: [1, 2], x: [[0, 1, 2], [3, 4, 5]], y: [[6, 7, 8], [9, 10, 11]] };
  const figure = evolutionFigure(snapshots, ["zero", "one"]);
  assert.deepEqual(figure.data.map((t) => t.x), [[4], [3, 5]]); // the last epoch drawn
  assert.deepEqual(figure.frames.map((f) => f.name), ["1", "2"]);
  assert.deepEqual(figure.frames[0].data[1], { x: [0, 2], y: [6, 8] });
  assert.equal(figure.layout.sliders[0].active, 1);
});

test("the rate-distortion curve joins the trained models only, and rings the chosen one", () => {
  const points = [
    { model_id: "recon-2d", beta: 0, trained: true, rate: 9, distortion: 100 },
    { model_id: "beta-2-2d", beta: 2, trained: false, rate: null, distortion: null },
    { model_id: "kl-2d", beta: null, trained: true, rate: 0, distortion: 200 },
  ];
  const [curve, chosen] = rateDistortionTraces(points, points[2]);
  assert.deepEqual(curve.x, [9, 0]);
  assert.deepEqual(curve.text, ["β = 0", "KL only"]);
  assert.deepEqual([chosen.x, chosen.text], [[0], ["KL only"]]);
  assert.deepEqual(rateDistortionTraces(points, null)[1].x, []);
});
