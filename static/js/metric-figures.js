// Pure builders for the per-point metrics on the explorer: the map's points coloured by a metric, the
// points a brushed range of each metric's histogram leaves on the map, and the histograms themselves.
import { MODE_BAR_MARGIN } from "./map-traces.js";

export const HISTOGRAM_BINS = 40;
const COLOURSCALE = "Viridis";

// The central 98% of the values: a colour scale that a handful of extreme points cannot wash out.
export function robustLimits(values) {
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return [at(0.01), at(0.99)];
}

// Whether each point of the map passes every brushed range: ranges is { name: [low, high] } over values
// { name: [...] }; a metric with no range passes every point. -> Uint8Array, 1 for shown.
export function passing(values, ranges, count) {
  const shown = new Uint8Array(count).fill(1);
  for (const [name, [low, high]] of Object.entries(ranges)) {
    const metric = values[name];
    for (let i = 0; i < count; i += 1) if (!(metric[i] >= low && metric[i] <= high)) shown[i] = 0;
  }
  return shown;
}

// A restyle of the class traces (their customdata: map positions) showing only the passing points: the
// others get null coordinates, which Plotly does not draw, so positions and selections stay as they were.
export function filteredUpdate(map, traces, shown) {
  const coordinates = (axis) => traces.map((trace) => trace.customdata.map((p) => (shown[p] ? map[axis][p] : null)));
  return { x: coordinates("x"), y: coordinates("y") };
}

// A restyle colouring the class traces by a metric (one colour bar, on the first trace), or back to their
// class colours when `metric` is null.
export function colourUpdate(traces, metric, classColours) {
  if (!metric) {
    return { "marker.color": traces.map((_, k) => classColours[k]), "marker.showscale": traces.map(() => false) };
  }
  const [cmin, cmax] = metric.names ? [0, metric.names.length - 1] : robustLimits(metric.values);
  return {
    "marker.color": traces.map((trace) => trace.customdata.map((p) => metric.values[p])),
    "marker.colorscale": COLOURSCALE,
    "marker.cmin": cmin,
    "marker.cmax": cmax,
    "marker.showscale": traces.map((_, k) => k === 0),
    // Across the plot's top left: the legend keeps the right margin, so classes can still be toggled.
    "marker.colorbar": {
      title: { text: metric.title, side: "top" }, orientation: "h", x: 0.01, xanchor: "left", y: 0.99, yanchor: "top",
      len: 0.35, thickness: 10, bgcolor: "rgba(255, 255, 255, 0.8)", ...(metric.names && namedTicks(metric.names)),
    },
  };
}

// A factor's value indices named on an axis: at most `most` ticks, evenly spaced, the first and last among
// them when they fit. names: the values' names in index order. -> { tickvals, ticktext }
export function namedTicks(names, most = 5) {
  const step = Math.max(1, Math.ceil((names.length - 1) / (most - 1)));
  const tickvals = [];
  for (let k = 0; k < names.length; k += step) tickvals.push(k);
  return { tickvals, ticktext: tickvals.map((k) => names[k]) };
}

// One metric's histogram over the map's points, its brushed range (or null) drawn as a band. A factor's
// (metric.names: its values' names) has a bar per value, named on the axis.
export function histogramFigure(metric, range) {
  const bins = metric.names ? { xbins: { start: -0.5, end: metric.names.length - 0.5, size: 1 } } : { nbinsx: HISTOGRAM_BINS };
  const data = [{ type: "histogram", x: metric.values, ...bins, marker: { color: "#6b7280" }, hoverinfo: "x+y" }];
  const band = range && {
    type: "rect", xref: "x", yref: "paper", x0: range[0], x1: range[1], y0: 0, y1: 1,
    fillcolor: "rgba(37, 99, 235, 0.15)", line: { width: 0 },
  };
  const layout = {
    title: { text: metric.title, font: { size: 13 } },
    margin: { l: 40, r: 10, t: MODE_BAR_MARGIN, b: 30 },
    height: 180,
    bargap: 0.05,
    dragmode: "select",
    selectdirection: "h",
    xaxis: { title: { text: metric.unit ?? "nats" }, ...(metric.names && namedTicks(metric.names)) },
    yaxis: { fixedrange: true },
    shapes: band ? [band] : [],
  };
  return { data, layout };
}
