// Pure builders of what the explorer and the compare page draw over the map's points: the density view,
// encoded drawings with their ellipses, the interpolation path, a highlighted point, the decision map and
// the true posterior's contours. Each trace has a uid of its own (map-traces.js finds traces by uid).
import { classColors } from "./map-traces.js";

export const DENSITY_TRACE = "density";
export const DRAWINGS_TRACE = "drawings";
export const HIGHLIGHT_TRACE = "highlight";
export const DECISION_TRACE = "decision";
export const POSTERIOR_TRACE = "posterior";

// Where the points crowd: counts on a 2-D grid, empty cells see-through (the density view of many points).
export function densityTrace(map) {
  return {
    type: "histogram2d", uid: DENSITY_TRACE, x: map.x, y: map.y, nbinsx: 150, nbinsy: 150, hoverinfo: "skip",
    colorscale: [[0, "rgba(255,255,255,0)"], [1e-9, "#dbe4ff"], [0.3, "#5b7be0"], [1, "#10205e"]], showscale: false,
  };
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

// A drawing's marker from an encoding: its map point and its ellipse, both as the server computed them (a
// UMAP or t-SNE plane has no ellipse: map_sigma is null).
export const drawingOf = (encoding, number) => ({
  number, x: encoding.map_xy[0], y: encoding.map_xy[1], sigmaX: encoding.map_sigma?.[0] ?? null, sigmaY: encoding.map_sigma?.[1] ?? null,
});

export function ellipseShapes(drawings) {
  return drawings.filter((d) => d.sigmaX !== null).map((d) => ({
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

export const MARKS_TRACE = "notebook-marks";

// Rings around the map's points at `positions`: the images a notebook highlighted (notebook-link.js).
export function marksTrace(map, positions) {
  return {
    type: "scattergl",
    mode: "markers",
    uid: MARKS_TRACE,
    name: "highlighted from Python",
    x: positions.map((p) => map.x[p]),
    y: positions.map((p) => map.y[p]),
    marker: { size: 12, color: "rgba(0, 0, 0, 0)", line: { color: "#dc2626", width: 2 } },
    hoverinfo: "none",
    showlegend: false,
  };
}
