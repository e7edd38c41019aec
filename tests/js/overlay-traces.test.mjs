// What is drawn over the map's points (static/js/overlay-traces.js).
import assert from "node:assert/strict";
import test from "node:test";

import { classColors } from "../../static/js/map-traces.js";
import { decisionTrace, drawingOf, ellipseShapes, pathShape } from "../../static/js/overlay-traces.js";

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
