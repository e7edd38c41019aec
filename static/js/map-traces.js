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
export function classColors(count) {
  if (count <= TEN_COLORS.length) return TEN_COLORS.slice(0, count);
  return Array.from({ length: count }, (_, k) => `hsl(${Math.round((k * 137.508) % 360)}, 70%, ${[42, 58, 30][k % 3]}%)`);
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
export const DRAWINGS_TRACE = "drawings";
export const HIGHLIGHT_TRACE = "highlight";
export const DECISION_TRACE = "decision";
export const POSTERIOR_TRACE = "posterior";

// The trace with this uid in a drawn graph (-1 when absent).
export const traceIndex = (graph, uid) => graph.data.findIndex((trace) => trace.uid === uid);
export const isClassTrace = (trace) => trace.uid?.startsWith(CLASS_TRACE);
export const DENSITY_TRACE = "density";

// Where the points crowd: counts on a 2-D grid, empty cells see-through (the density view of many points).
export function densityTrace(map) {
  return {
    type: "histogram2d", uid: DENSITY_TRACE, x: map.x, y: map.y, nbinsx: 150, nbinsy: 150, hoverinfo: "skip",
    colorscale: [[0, "rgba(255,255,255,0)"], [1e-9, "#dbe4ff"], [0.3, "#5b7be0"], [1, "#10205e"]], showscale: false,
  };
}

// The image a map point is: { split, index } (a map of both splits holds the test images first).
export const imageOf = (map, position) => ({ split: position < map.test_points ? "test" : "train", index: map.index[position] });

// An image's position on a map (-1 when the map does not hold its split).
export function positionOf(map, { split = "test", index }) {
  if (map.split === split) return index;
  return map.split === "all" ? (split === "test" ? index : map.test_points + index) : -1;
}

// One scattergl trace per class, so the legend (or the class filter) toggles classes. customdata holds
// each point's position in the map (imageOf says which image it is). With many classes the legend gives
// way to the class's name on hover.
export function mapTraces(map, { markerSize = 3, showlegend = true } = {}) {
  const names = map.class_names;
  const colors = classColors(names.length);
  const many = names.length > LEGEND_LIMIT;
  const byLabel = names.map(() => ({ x: [], y: [], index: [] }));
  for (let i = 0; i < map.x.length; i += 1) {
    const group = byLabel[map.label[i]];
    group.x.push(map.x[i]);
    group.y.push(map.y[i]);
    group.index.push(i);
  }
  return byLabel.map((group, label) => ({
    type: "scattergl",
    mode: "markers",
    uid: `${CLASS_TRACE}${label}`,
    name: names[label],
    x: group.x,
    y: group.y,
    customdata: group.index,
    marker: { size: markerSize, color: colors[label], opacity: 0.75 },
    hoverinfo: many ? "name" : "none",
    hoverlabel: { namelength: -1 },
    showlegend: showlegend && !many,
  }));
}

// Fixed margins (autoexpand off): the plotting area is the graph's box less these, which is what
// cursorToData relies on. The right margin holds the legend when there is one.
export function mapLayout({ xRange, yRange, legend = true, margin = 30, legendTitle = "class", classNames = [] } = {}) {
  const longest = Math.max(2, ...classNames.map((name) => name.length));
  return {
    margin: { l: margin + 10, r: legend ? Math.min(50 + 7 * longest, 170) : 10, t: 10, b: margin, autoexpand: false },
    xaxis: { range: xRange, zeroline: false, title: { text: "z₁" }, constrain: "range" },
    yaxis: {
      range: yRange, zeroline: false, title: { text: "z₂" }, scaleanchor: "x", scaleratio: 1, constrain: "range",
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

// Numbered markers for encoded drawings and uploads, with their 2-sigma ellipses as shapes.
export function drawingsTrace(drawings) {
  return {
    type: "scatter",
    mode: "markers+text",
    uid: DRAWINGS_TRACE,
    name: "your drawings",
    x: drawings.map((d) => d.x),
    y: drawings.map((d) => d.y),
    text: drawings.map((d) => String(d.number)),
    textposition: "top center",
    textfont: { size: 14, color: "#000" },
    marker: { size: 12, color: "#000", symbol: "star", line: { color: "#fff", width: 1 } },
    hoverinfo: "none",
    showlegend: false,
  };
}

// A drawing's marker from an encoding: its map point and its ellipse, both as the server computed them.
export const drawingOf = (encoding, number) => ({
  number, x: encoding.map_xy[0], y: encoding.map_xy[1], sigmaX: encoding.map_sigma[0], sigmaY: encoding.map_sigma[1],
});

export function ellipseShapes(drawings) {
  return drawings.map((d) => ({
    type: "circle",
    xref: "x",
    yref: "y",
    x0: d.x - 2 * d.sigmaX,
    x1: d.x + 2 * d.sigmaX,
    y0: d.y - 2 * d.sigmaY,
    y1: d.y + 2 * d.sigmaY,
    line: { color: "#000", width: 1.5, dash: "dot" },
  }));
}

// The interpolation's path on the map: a polyline through its ends, in order.
export function pathShape(ends) {
  const path = ends.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
  return { type: "path", xref: "x", yref: "y", path, line: { color: "#000", width: 3 } };
}

export function highlightTrace(point) {
  return {
    type: "scatter",
    mode: "markers",
    uid: HIGHLIGHT_TRACE,
    name: "highlight",
    x: point ? [point.x] : [],
    y: point ? [point.y] : [],
    marker: { size: 16, color: "rgba(0,0,0,0)", line: { color: "#000", width: 2.5 } },
    hoverinfo: "skip",
    showlegend: false,
  };
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

// The classifier's reading of the decoded image at each grid point, as a heatmap under the points.
export function decisionTrace(decision, classCount) {
  const colors = classColors(classCount);
  const last = colors.length - 1;
  return {
    type: "heatmap",
    uid: DECISION_TRACE,
    name: "decision map",
    x: decision.x,
    y: decision.y,
    z: decision.label,
    zmin: -0.5,
    zmax: last + 0.5,
    // Each class's colour over [c - 0.5, c + 0.5]: a step colorscale, so no two classes blend.
    colorscale: colors.flatMap((color, c) => [[c / (last + 1), color], [(c + 1) / (last + 1), color]]),
    opacity: 0.3,
    showscale: false,
    hoverinfo: "skip",
    showlegend: false,
  };
}

// The true posterior p(z|x) of one image (a 2-D model's, by quadrature) as contour lines on the map, under
// the encoding's dotted 2-sigma ellipse of q(z|x).
export function posteriorTrace(posterior) {
  return {
    type: "contour",
    uid: POSTERIOR_TRACE,
    name: "p(z|x)",
    x: posterior.x,
    y: posterior.y,
    z: posterior.density,
    ncontours: 8,
    contours: { coloring: "lines" },
    line: { width: 1.5 },
    colorscale: [[0, "#9ab"], [1, "#123"]],
    showscale: false,
    hoverinfo: "skip",
    showlegend: false,
  };
}
