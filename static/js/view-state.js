// The explorer's view lives in its URL, so a reload or a shared link restores it: the model, the axis
// ranges, the pinned digits, the interpolation path and the selection. Selections can hold tens of
// thousands of digits, so they travel as a bitset over the split's indices (base64url), not a list.

const PARAMS = ["model", "points", "plane", "view", "pins", "path", "selection"];

function bitsetOf(indices) {
  const bytes = new Uint8Array(Math.ceil((Math.max(...indices) + 1) / 8));
  for (const index of indices) bytes[index >> 3] |= 1 << (index & 7);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function indicesOf(bitset) {
  const binary = atob(bitset.replace(/-/g, "+").replace(/_/g, "/"));
  const indices = [];
  for (let byte = 0; byte < binary.length; byte += 1) {
    const bits = binary.charCodeAt(byte);
    for (let bit = 0; bit < 8; bit += 1) if (bits & (1 << bit)) indices.push(byte * 8 + bit);
  }
  return indices;
}

const rounded = (value) => Number(value.toPrecision(5));

// The view in `search` (location.search by default); a part that cannot be read is left out, not fatal.
export function readView(search = location.search) {
  const params = new URLSearchParams(search);
  const view = { model: params.get("model"), points: params.get("points"), plane: params.get("plane") ?? "pca", ranges: null, pins: [], path: null, selection: null };
  const read = (name, parse) => {
    if (!params.has(name)) return;
    try {
      view[name] = parse(params.get(name));
    } catch {
      // a hand-edited or truncated link: restore the rest
    }
  };
  const ranges = (params.get("view") ?? "").split(",").map(Number);
  if (ranges.length === 4 && ranges.every(Number.isFinite)) view.ranges = { x: ranges.slice(0, 2), y: ranges.slice(2) };
  read("pins", (text) => text.split(",").map(Number).filter(Number.isInteger));
  read("path", (text) => JSON.parse(text));
  read("selection", indicesOf);
  return view;
}

// The query that keeps the view { model, points (the split shown), plane (pca, umap or tsne), ranges, pins, path, selection } (pins and
// selection are positions on that split's map), beside what else `search` holds.
export function viewQuery({ model, points, plane = "pca", ranges, pins, path, selection }, search = "") {
  const params = new URLSearchParams(search);
  for (const name of PARAMS) params.delete(name);
  params.set("model", model);
  if (points !== "test") params.set("points", points);
  if (plane !== "pca") params.set("plane", plane);
  if (ranges) params.set("view", [...ranges.x, ...ranges.y].map(rounded).join(","));
  if (pins.length) params.set("pins", pins.join(","));
  if (path) params.set("path", JSON.stringify(path));
  if (selection?.length) params.set("selection", bitsetOf(selection));
  return `?${params}`;
}

// Write the view into the URL without a new history entry.
export function writeView(view) {
  history.replaceState(null, "", `${location.pathname}${viewQuery(view, location.search)}`);
}
