// The latent map's pure builders (static/js/map-traces.js), checked against what a map response holds.
import assert from "node:assert/strict";
import test from "node:test";

import {
  axisTitles, classColors, classTokens, classVisibility, hiddenLabels, imageOf, isClassTrace, mapLayout, mapTraces, positionOf,
  restyleUpdate, robustRange, traceLabel, withImages,
} from "../../static/js/map-traces.js";

const MAP = {
  class_names: ["0", "1", "2"], split: "all", test_points: 3,
  x: [0, 1, 2, 3, 4], y: [5, 6, 7, 8, 9], label: [2, 0, 2, 1, 0], index: [0, 1, 2, 0, 1],
};

test("one trace per class holds exactly that class's points, each knowing its place on the map", () => {
  const traces = mapTraces(MAP);
  assert.equal(traces.length, 3);
  for (const trace of traces) {
    assert.ok(isClassTrace(trace));
    const label = traceLabel(trace);
    const expected = MAP.label.flatMap((l, i) => (l === label ? [i] : []));
    assert.deepEqual(trace.customdata, expected);
    assert.deepEqual(trace.x, expected.map((i) => MAP.x[i]));
    assert.deepEqual(trace.y, expected.map((i) => MAP.y[i]));
    assert.equal(trace.name, MAP.class_names[label]);
  }
  assert.equal(traces.flatMap((t) => t.x).length, MAP.x.length);
});

test("many classes give way to names on hover, no legend, and distinct colours", () => {
  const names = Array.from({ length: 52 }, (_, k) => `c${k}`);
  const traces = mapTraces({ ...MAP, class_names: names, label: [0, 1, 2, 3, 51] });
  assert.ok(traces.every((t) => t.showlegend === false && t.hoverinfo === "name"));
  assert.equal(new Set(classColors(52)).size, 52);
  assert.ok(classColors(52).every((color) => /^#[0-9a-f]{6}$/.test(color))); // hex: the tiles take them too
  assert.equal(classColors(52)[0], "#b62020"); // hsl(0, 70%, 42%) by CSS's own conversion
  assert.deepEqual(classColors(10).slice(0, 2), ["#1f77b4", "#ff7f0e"]); // MNIST keeps Plotly's ten
});

test("typed class names are read as names, or as characters run together", () => {
  const names = ["@", "9", "a", "Oo", "cat"];
  assert.deepEqual(classTokens(names, "@ 9 a"), ["@", "9", "a"]);
  assert.deepEqual(classTokens(names, "@9a"), ["@", "9", "a"]);
  assert.deepEqual(classTokens(names, "o, cat"), ["Oo", "cat"]); // a character names its merged class
  assert.deepEqual(classTokens(names, "dog"), ["dog"]); // kept as typed, for the server to refuse
  assert.deepEqual(classVisibility(names, "9 cat"), [false, true, false, false, true]);
  assert.deepEqual(classVisibility(names, ""), [true, true, true, true, true]);
});

test("a map of both splits holds the test images first", () => {
  assert.deepEqual(imageOf(MAP, 2), { split: "test", index: 2 });
  assert.deepEqual(imageOf(MAP, 4), { split: "train", index: 1 });
  assert.equal(positionOf(MAP, { split: "train", index: 1 }), 4);
  assert.equal(positionOf({ ...MAP, split: "test" }, { split: "train", index: 1 }), -1);
  assert.equal(positionOf({ ...MAP, split: "test" }, { index: 2 }), 2);
});

test("the range covers the bulk of the points, not their outliers, and at least the prior's centre", () => {
  const values = [...Array.from({ length: 998 }, (_, k) => k / 997), -1000, 1000];
  const [low, high] = robustRange(values, 0, 0);
  assert.ok(low > -0.01 && low < 0.02 && high > 0.98 && high < 1.01, `${low}, ${high}`);
  assert.deepEqual(robustRange([0.001, 0.002, 0.003]), [-0.998, 1.002]); // collapsed codes: 2 wide
});

test("the layout's plotting area is the graph less fixed margins, with the axes at one scale", () => {
  const layout = mapLayout({ xRange: [-1, 1], yRange: [-2, 2], classNames: ["a long class name"] });
  assert.equal(layout.margin.autoexpand, false);
  assert.equal(layout.yaxis.scaleanchor, "x");
  assert.ok(layout.margin.r > mapLayout({ xRange: [0, 1], yRange: [0, 1], classNames: ["0"] }).margin.r);
  assert.deepEqual(restyleUpdate({ x: [1], y: [2], marker: {} }), { x: [[1]], y: [[2]] });
});

test("the axes are named for the plane: latent coordinates only on a 2-D model's own plane", () => {
  assert.deepEqual(axisTitles({ method: "pca", title: "latent plane", latent_plane: true }), ["z₁", "z₂"]);
  assert.deepEqual(axisTitles({ method: "pca", title: "PCA", latent_plane: false }), ["PC 1", "PC 2"]);
  assert.deepEqual(axisTitles({ method: "tsne", title: "t-SNE", latent_plane: false }), ["t-SNE 1", "t-SNE 2"]);
  assert.equal(mapLayout({ xRange: [0, 1], yRange: [0, 1], axes: axisTitles({ method: "umap", title: "UMAP" }) }).xaxis.title.text, "UMAP 1");
});

test("a part of a map keeps its points' places, and a class with none keeps its legend entry", () => {
  const part = { ...MAP, x: [3, 4], y: [8, 9], label: [1, 0], position: [3, 4] };
  const traces = mapTraces(part);
  assert.deepEqual(traces.map((t) => t.customdata), [[4], [3], [null]]);
  assert.deepEqual(traces[2].x, [null]); // Plotly leaves a trace with no data out of the legend
});

test("hidden classes are read off the graph, and each module's map images are its own", () => {
  const graph = {
    data: [{ uid: "class-0" }, { uid: "class-1", visible: "legendonly" }, { uid: "class-2", visible: true }, { uid: "drawings", visible: false }],
    layout: { images: [{ name: "manifold", source: "m" }, { name: "density-tiles", source: "old" }] },
  };
  assert.deepEqual([...hiddenLabels(graph)], [1]);
  assert.deepEqual(withImages(graph, "density-tiles", [{ source: "a" }, { source: "b" }]), [
    { name: "manifold", source: "m" }, { name: "density-tiles", source: "a" }, { name: "density-tiles", source: "b" },
  ]);
  assert.deepEqual(withImages(graph, "manifold", []), [{ name: "density-tiles", source: "old" }]);
});
