// The explorer's view in its URL (static/js/view-state.js): what is written reads back the same.
import assert from "node:assert/strict";
import test from "node:test";

import { readView, viewQuery } from "../../static/js/view-state.js";

test("a view written into the query reads back whole", () => {
  const selection = [0, 3, 7, 8, 4095, 69999];
  const path = { ends: [{ index: 3, split: "test" }, { label: "9" }, { point: [0.5, -1] }], steps: 12, method: "slerp" };
  const view = { model: "full-16d", points: "all", plane: "umap", ranges: { x: [-1.23456789, 2], y: [-3, 4] }, pins: [5, 2], path, selection };
  const read = readView(viewQuery(view, "?other=kept"));
  assert.deepEqual(read, { ...view, ranges: { x: [-1.2346, 2], y: [-3, 4] } }); // ranges to 5 digits
  assert.equal(new URLSearchParams(viewQuery(view, "?other=kept")).get("other"), "kept");
});

test("a selection travels as a bitset, far shorter than its list", () => {
  const selection = Array.from({ length: 30000 }, (_, k) => 2 * k);
  const query = viewQuery({ model: "m", points: "test", ranges: null, pins: [], path: null, selection });
  assert.deepEqual(readView(query).selection, selection);
  assert.ok(query.length < 12000, `${query.length} characters`);
});

test("a damaged link restores what it can", () => {
  const read = readView("?model=kl-2d&view=1,2,3&pins=4,x,6&path=%7Bbroken&selection=%%");
  assert.equal(read.model, "kl-2d");
  assert.equal(read.ranges, null); // three numbers are no view
  assert.deepEqual(read.pins, [4, 6]);
  assert.equal(read.path, null);
  assert.equal(read.selection, null);
});
