// The per-point metrics' pure builders (static/js/metric-figures.js): filtering by brushed ranges,
// colouring by a metric, the histograms.
import assert from "node:assert/strict";
import test from "node:test";

import {
  colourUpdate, filteredUpdate, histogramFigure, namedTicks, passing, robustLimits,
} from "../../static/js/metric-figures.js";

const map = { x: [0, 1, 2, 3, 4], y: [5, 6, 7, 8, 9] };
const traces = [{ customdata: [0, 2, 4] }, { customdata: [1, 3] }]; // two classes' points, by map position
const values = { kl: [1, 5, 3, 9, 2], elbo: [-90, -80, -100, -95, -85] };

test("a point is shown only when every brushed range holds it", () => {
  assert.deepEqual([...passing(values, {}, 5)], [1, 1, 1, 1, 1]);
  assert.deepEqual([...passing(values, { kl: [2, 5] }, 5)], [0, 1, 1, 0, 1]);
  assert.deepEqual([...passing(values, { kl: [2, 5], elbo: [-90, -82] }, 5)], [0, 0, 0, 0, 1]);
});

test("filtered points keep their place in each trace, with null coordinates", () => {
  const update = filteredUpdate(map, traces, passing(values, { kl: [2, 5] }, 5));
  assert.deepEqual(update.x, [[null, 2, 4], [1, null]]);
  assert.deepEqual(update.y, [[null, 7, 9], [6, null]]);
});

test("colouring by a metric gives each trace its points' values and one colour bar; null restores classes", () => {
  const update = colourUpdate(traces, { values: values.kl, title: "KL" }, ["red", "blue"]);
  assert.deepEqual(update["marker.color"], [[1, 3, 2], [5, 9]]);
  assert.deepEqual(update["marker.showscale"], [true, false]);
  assert.equal(update["marker.colorbar"].title.text, "KL");
  assert.deepEqual(colourUpdate(traces, null, ["red", "blue"])["marker.color"], ["red", "blue"]);
});

test("the colour limits leave out the extreme 1% on each side", () => {
  const many = Array.from({ length: 1000 }, (_, k) => k);
  many[0] = -1e9;
  many[999] = 1e9;
  const [low, high] = robustLimits(many);
  assert.ok(low >= 1 && low <= 20 && high >= 980 && high < 1000, `${low}, ${high}`);
});

test("a histogram draws its brushed range as a band and brushes horizontally", () => {
  const { data, layout } = histogramFigure({ values: values.kl, title: "KL" }, [2, 5]);
  assert.equal(data[0].type, "histogram");
  assert.deepEqual(data[0].x, values.kl);
  assert.equal(layout.selectdirection, "h");
  assert.deepEqual([layout.shapes[0].x0, layout.shapes[0].x1], [2, 5]);
  assert.deepEqual(histogramFigure({ values: values.kl, title: "KL" }, null).layout.shapes, []);
});

test("a factor's histogram has a bar per value, named on the axis, and its colour bar names values too", () => {
  const factor = { values: [0, 2, 2, 1], title: "shape", names: ["square", "ellipse", "heart"] };
  const { data, layout } = histogramFigure(factor, null);
  assert.deepEqual(data[0].xbins, { start: -0.5, end: 2.5, size: 1 });
  assert.equal(data[0].nbinsx, undefined);
  assert.deepEqual([layout.xaxis.tickvals, layout.xaxis.ticktext], [[0, 1, 2], ["square", "ellipse", "heart"]]);
  const coloured = colourUpdate(traces, { ...factor, values: [1, 1, 1, 1, 1] }, ["red", "blue"]);
  assert.deepEqual([coloured["marker.cmin"], coloured["marker.cmax"]], [0, 2]); // every value's colour, named
  assert.deepEqual(coloured["marker.colorbar"].ticktext, ["square", "ellipse", "heart"]);
  assert.equal(histogramFigure({ values: values.kl, title: "KL" }, null).layout.xaxis.tickvals, undefined);
});

test("many values are named by a few evenly spaced ticks, the first and the last among them when they fit", () => {
  const positions = Array.from({ length: 32 }, (_, k) => (k / 31).toFixed(2));
  const { tickvals, ticktext } = namedTicks(positions);
  assert.ok(tickvals.length <= 5 && tickvals[0] === 0, `${tickvals}`);
  assert.deepEqual(tickvals, [0, 8, 16, 24]);
  assert.deepEqual(ticktext, tickvals.map((k) => positions[k]));
  assert.deepEqual(namedTicks(["a", "b"]).tickvals, [0, 1]);
  assert.deepEqual(namedTicks(Array.from({ length: 41 }, String)).tickvals, [0, 10, 20, 30, 40]);
});
