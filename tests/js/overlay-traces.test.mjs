// What is drawn over the map's points (static/js/overlay-traces.js).
import assert from "node:assert/strict";
import test from "node:test";

import { classColors } from "../../static/js/map-traces.js";
import {
  decisionTrace, drawingOf, ellipseShapes, holeMarksTrace, holesText, pathShape, priorDiscTrace, priorRatioTrace,
} from "../../static/js/overlay-traces.js";

test("a drawing's ellipse spans two of the server's sigmas either side of its point", () => {
  const drawing = drawingOf({ map_xy: [1, -2], map_sigma: [0.5, 0.25] }, 3);
  assert.deepEqual(drawing, { number: 3, x: 1, y: -2, sigmaX: 0.5, sigmaY: 0.25 });
  const [ellipse] = ellipseShapes([drawing]);
  assert.deepEqual([ellipse.x0, ellipse.x1, ellipse.y0, ellipse.y1], [0, 2, -2.5, -1.5]);
});

test("the path runs through its ends in order", () => {
  assert.equal(pathShape([{ x: 0, y: 1 }, { x: 2, y: 3 }, { x: -1, y: 0.5 }]).path, "M0,1 L2,3 L-1,0.5");
});

test("the decision map gives each class its own colour band, so no two blend", () => {
  const trace = decisionTrace({ x: [0, 1], y: [0, 1], label: [[0, 2], [1, 2]] }, 3);
  const colors = classColors(3);
  assert.equal(trace.zmin, -0.5);
  assert.equal(trace.zmax, 2.5);
  for (let c = 0; c < 3; c += 1) {
    // Class c's value, mapped to [0, 1] as Plotly maps z, falls between two stops of its own colour.
    const at = (c - trace.zmin) / (trace.zmax - trace.zmin);
    const below = trace.colorscale.filter(([stop]) => stop <= at).at(-1);
    const above = trace.colorscale.find(([stop]) => stop >= at);
    assert.equal(below[1], colors[c]);
    assert.equal(above[1], colors[c]);
  }
});

const holes = {
  x: [0, 1], y: [0, 1], log_ratio: [[-30, 0], [1, 2]], prior_centre: [0.5, -0.5], prior_radius: 2.45, hole_ratio: 0.1,
  prior_region: 0.95, hole_mass: 0.0345, images: 10000, exact: true, latent_dim: 2,
  full_space_hole_mass: 0.047, full_space_hole_mass_se: 0.0033,
  holes: [{ x: 0.1, y: 0.2, log_ratio: -2.3, prior_mass: 0.02 }, { x: -1, y: 1, log_ratio: -3, prior_mass: 0.004 }],
};

test("the ratio's colours are red below 0, blue above and see-through where q and p agree", () => {
  const trace = priorRatioTrace(holes);
  assert.equal(trace.zmin, -trace.zmax);
  const at = (z) => trace.colorscale.find(([stop]) => stop >= (z - trace.zmin) / (trace.zmax - trace.zmin))[1];
  assert.equal(at(0), "rgba(255,255,255,0)");
  assert.equal(at(trace.zmin), "#b2182b");
  assert.equal(at(trace.zmax), "#2166ac");
});

test("the prior's disc is a closed circle of the server's radius around its centre", () => {
  const disc = priorDiscTrace(holes);
  assert.equal(disc.x[0], disc.x.at(-1));
  for (let i = 0; i < disc.x.length; i += 7) {
    assert.ok(Math.abs(Math.hypot(disc.x[i] - 0.5, disc.y[i] + 0.5) - 2.45) < 1e-9);
  }
});

test("each hole is marked at its point with its share of the prior's mass", () => {
  const marks = holeMarksTrace(holes);
  assert.deepEqual([marks.x, marks.y], [[0.1, -1], [0.2, 1]]);
  assert.match(marks.text[0], /^hole: 2\.0% of the prior's mass; q\/p = 0\.10 here$/);
  assert.match(marks.text[1], /^hole: 0\.40% of/);
});

test("the caption gives the holes' mass and says how exact the ratio is", () => {
  assert.match(holesText(holes), /puts 3\.5% of its mass in holes, where q\(z\)\/p\(z\) < 0\.1 within its 95% disc \(dashed\), 2 marked ×/);
  assert.match(holesText(holes), /10,000 test images' posteriors; exact on this 2-D model\.$/);
  assert.match(holesText(holes), / 4\.7% ± 0\.33% of prior samples land in a hole anywhere on the plane\./);
  const wide = { ...holes, exact: false, latent_dim: 16, hole_mass: 0, holes: [], full_space_hole_mass: 0.99 };
  assert.match(holesText(wide), /No holes on the map: .* 99\.0% ± 0\.33% of prior samples land in a hole anywhere in the whole 16-D latent space\./);
  assert.match(holesText({ ...holes, exact: false, holes: [] }), /\(dashed\): prior samples.*on the PCA plane/);
  assert.match(holesText({ ...holes, hole_mass: 0, holes: [] }), /^No holes on the map: q\(z\)\/p\(z\) >= 0\.1 throughout the prior's 95% disc \(dashed\)\. 4\.7% ± /);
});
