// Pure builders of the latent map's Plotly traces and layout, and the map's screen geometry through
// Plotly's public layout (its ranges) and our fixed margins. Traces are found by their uid, never by number.

const TEN_COLORS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
export const CLASS_TRACE = "class-"; // + the label: one trace per class
export const LEGEND_LIMIT = 12; // more classes than this: names on hover and a class filter, no legend

// A colour per class: Plotly's ten while they suffice (MNIST's digits keep theirs); beyond, hues spread
// by the golden angle at three lightnesses, so classes next to each other in label order never look alike.
// Hex throughout: the server shades density tiles in these colours too.
export function classColors(count) {
  if (count <= TEN_COLORS.length) return TEN_COLORS.slice(0, count);
  return Array.from({ length: count }, (_, k) => hslToHex((k * 137.508) % 360, 0.7, [0.42, 0.58, 0.3][k % 3]));
}

// CSS's hsl() -> "#rrggbb" (CSS Color 4's conversion).
function hslToHex(hue, saturation, lightness) {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n) => {
    const k = (n + hue / 30) % 12;
    const value = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * value).toString(16).padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

// The class names a user typed, in order: "@ 9 a", "cat, dog", or characters run together ("@9a"),
// where a character stands for the class holding it (o for "Oo", a merged class). A token that names
// nothing is kept as typed, for the server to say so.
export function classTokens(classNames, query) {
  const classOf = (char) => classNames.find((name) => name === char) ?? classNames.find((name) => [...name].includes(char));
  return query.split(/[\s,]+/).filter(Boolean).flatMap((token) => {
    if (classNames.includes(token)) return [token];
    const chars = [...token].map(classOf);
    return chars.every(Boolean) ? chars : [token];
  });
}

// Which classes a filter shows: one boolean per class; an empty filter shows every class.
export function classVisibility(classNames, query) {
  const wanted = new Set(classTokens(classNames, query));
  return classNames.map((name) => !wanted.size || wanted.has(name));
}

// The label of a class trace, from its uid.
export const traceLabel = (trace) => Number(trace.uid.slice(CLASS_TRACE.length));

// The indices of a drawn graph's class traces.
export const classTraceIndices = (graph) => graph.data.map((trace, i) => (isClassTrace(trace) ? i : -1)).filter((i) => i >= 0);

// The labels of the classes the legend or the class filter hides in a drawn graph.
export function hiddenLabels(graph) {
  const hidden = (trace) => isClassTrace(trace) && (trace.visible === false || trace.visible === "legendonly");
  return new Set(graph.data.filter(hidden).map(traceLabel));
}

// The trace with this uid in a drawn graph (-1 when absent).
export const traceIndex = (graph, uid) => graph.data.findIndex((trace) => trace.uid === uid);
export const isClassTrace = (trace) => trace.uid?.startsWith(CLASS_TRACE);

// The image a map point is: { split, index } (a map of both splits holds the test images first). From
// the position alone: a map drawn as density lists no points.
export function imageOf(map, position) {
  return position < map.test_points ? { split: "test", index: position } : { split: "train", index: position - map.test_points };
}

// An image's position on a map (-1 when the map does not hold its split).
export function positionOf(map, { split = "test", index }) {
  if (map.split === split) return index;
  return map.split === "all" ? (split === "test" ? index : map.test_points + index) : -1;
}

// One scattergl trace per class, so the legend (or the class filter) toggles classes. customdata holds
// each point's position in the map (imageOf says which image it is): its index in the arrays, or
// map.position's for a part of a map (a view of a map drawn as density). With many classes the legend
// gives way to the class's name on hover.
export function mapTraces(map, { markerSize = 3, showlegend = true } = {}) {
  const names = map.class_names;
  const colors = classColors(names.length);
  const many = names.length > LEGEND_LIMIT;
  const byLabel = names.map(() => ({ x: [], y: [], index: [] }));
  for (let i = 0; i < map.x.length; i += 1) {
    const group = byLabel[map.label[i]];
    group.x.push(map.x[i]);
    group.y.push(map.y[i]);
    group.index.push(map.position ? map.position[i] : i);
  }
  // A class with no points holds one null point: Plotly's legend leaves out a trace with no data, and a
  // map drawn as density starts with none.
  const orNull = (values) => (values.length ? values : [null]);
  return byLabel.map((group, label) => ({
    type: "scattergl",
    mode: "markers",
    uid: `${CLASS_TRACE}${label}`,
    name: names[label],
    x: orNull(group.x),
    y: orNull(group.y),
    customdata: orNull(group.index),
    marker: { size: markerSize, color: colors[label], opacity: 0.75 },
    hoverinfo: many ? "name" : "none",
    hoverlabel: { namelength: -1 },
    showlegend: showlegend && !many,
  }));
}

// Every figure leaves its top margin to Plotly's mode bar, which appears over the figure's top right on
// hover: legends and titles start below it.
export const MODE_BAR_MARGIN = 40;

// Fixed margins (autoexpand off): the plotting area is the graph's box less these, which is what
// cursorToData relies on. The right margin holds the legend when there is one.
// The axes' names for the map's plane (the /map response's `plane`): z₁, z₂ on a 2-D model's latent plane,
// else the method's own ("PC 1", "UMAP 2"): a nonlinear plane's axes are not latent coordinates.
export function axisTitles(plane) {
  if (!plane || plane.latent_plane) return ["z₁", "z₂"];
  const name = plane.method === "pca" ? "PC" : plane.title;
  return [`${name} 1`, `${name} 2`];
}

export function mapLayout({ xRange, yRange, legend = true, margin = 30, legendTitle = "class", classNames = [], axes = axisTitles() } = {}) {
  const longest = Math.max(2, ...classNames.map((name) => name.length));
  return {
    margin: {
      l: margin + 10, r: legend ? Math.min(50 + 7 * longest, 170) : 10, t: legend ? MODE_BAR_MARGIN : 10, b: margin,
      autoexpand: false,
    },
    xaxis: { range: xRange, zeroline: false, title: { text: axes[0] }, constrain: "range" },
    yaxis: {
      range: yRange, zeroline: false, title: { text: axes[1] }, scaleanchor: "x", scaleratio: 1, constrain: "range",
    },
    dragmode: "zoom",
    hovermode: "closest",
    hoverdistance: 14, // pixels: a hover, click or drag end this close to a point is on it
    showlegend: legend,
    legend: { title: { text: legendTitle }, itemsizing: "constant", x: 1.01, xanchor: "left" },
    uirevision: "keep",
  };
}

export const PLOT_CONFIG = { responsive: true, displaylogo: false, doubleClick: false, scrollZoom: true };

// The visible map ranges, as Plotly holds them in the layout after zooms and aspect constraints.
export const viewRange = (graph) => ({ x: graph.layout.xaxis.range, y: graph.layout.yaxis.range });

// The plotting area's width in screen pixels.
export function plotWidth(graph) {
  const { l, r } = graph.layout.margin;
  return graph.getBoundingClientRect().width - l - r;
}

// The layout's images with `owner`'s replaced by `images` (each module's images carry its name), so the
// decoded manifold and density tiles can share the layout.
export function withImages(graph, owner, images) {
  const others = (graph.layout.images ?? []).filter((image) => image.name !== owner);
  return [...others, ...images.map((image) => ({ ...image, name: owner }))];
}

// Cursor position -> map coordinates (null outside the plotting area).
export function cursorToData(graph, event) {
  const box = graph.getBoundingClientRect();
  const { l, r, t, b } = graph.layout.margin;
  const px = event.clientX - box.left - l;
  const py = event.clientY - box.top - t;
  const width = box.width - l - r;
  const height = box.height - t - b;
  if (px < 0 || py < 0 || px > width || py > height) return null;
  const { x: [x0, x1], y: [y0, y1] } = viewRange(graph);
  return { x: x0 + (px / width) * (x1 - x0), y: y1 - (py / height) * (y1 - y0) };
}

// The on-screen distance in pixels between two map points.
export function pixelDistance(graph, a, b) {
  const box = graph.getBoundingClientRect();
  const { l, r, t, b: bottom } = graph.layout.margin;
  const { x: [x0, x1], y: [y0, y1] } = viewRange(graph);
  const dx = ((a.x - b.x) / (x1 - x0)) * (box.width - l - r);
  const dy = ((a.y - b.y) / (y1 - y0)) * (box.height - t - bottom);
  return Math.hypot(dx, dy);
}

// A range around the bulk of the points (1st to 99th percentile, padded), so outliers do not shrink it,
// and at least `minSpan` wide (one prior standard deviation either side): codes collapsed onto the prior
// (KL-only training) then show as one blob at the centre, not as a few points zoomed to 1e-3.
export function robustRange(values, pad = 0.15, minSpan = 2) {
  const sorted = Float64Array.from(values).sort();
  const low = sorted[Math.floor(0.01 * (sorted.length - 1))];
  const high = sorted[Math.ceil(0.99 * (sorted.length - 1))];
  const margin = (high - low) * pad;
  const half = Math.max((high - low) / 2 + margin, minSpan / 2);
  const centre = (low + high) / 2;
  return [centre - half, centre + half];
}

// The data of one trace, as Plotly.restyle wants it (arrays read as one value per trace, so each is
// wrapped). Only data: restyling the trace type or styling would make Plotly autorange the axes again.
export function restyleUpdate(trace, keys = ["x", "y", "text"]) {
  return Object.fromEntries(keys.filter((key) => key in trace).map((key) => [key, [trace[key]]]));
}
