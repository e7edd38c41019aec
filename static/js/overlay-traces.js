// Pure builders of what the explorer and the compare page draw over the map's points: the density view,
// encoded drawings with their ellipses, the interpolation path, a highlighted point, the decision map,
// the true posterior's contours, and the aggregate posterior against the prior with the prior's holes. Each trace has a uid of its own (map-traces.js finds traces by uid).
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

export const RATIO_TRACE = "prior-ratio";
export const HOLES_TRACE = "prior-holes";
export const DISC_TRACE = "prior-disc";
const RATIO_SHOWN = 4; // nats either side of 0 (q/p from 1/55 to 55): beyond, the colour saturates

// log q(z)/p(z) under the points: red where the prior has more mass than the images (holes), blue where
// the images crowd, see-through where the two agree.
export function priorRatioTrace(holes) {
  return {
    type: "heatmap",
    uid: RATIO_TRACE,
    name: "log q(z)/p(z)",
    x: holes.x,
    y: holes.y,
    z: holes.log_ratio,
    zmin: -RATIO_SHOWN,
    zmax: RATIO_SHOWN,
    colorscale: [[0, "#b2182b"], [0.35, "rgba(239,138,98,0.6)"], [0.5, "rgba(255,255,255,0)"], [0.65, "rgba(103,169,207,0.6)"], [1, "#2166ac"]],
    opacity: 0.45,
    zsmooth: "best",
    colorbar: { title: { text: "log q/p", side: "right" }, thickness: 10, len: 0.35, y: 0, yanchor: "bottom" },
    hoverinfo: "skip",
    showlegend: false,
  };
}

// The prior's disc in which holes are looked for, dashed.
export function priorDiscTrace(holes) {
  const [cx, cy] = holes.prior_centre;
  const angles = Array.from({ length: 97 }, (_, i) => (2 * Math.PI * i) / 96);
  return {
    type: "scatter",
    mode: "lines",
    uid: DISC_TRACE,
    name: "the prior's disc",
    x: angles.map((a) => cx + holes.prior_radius * Math.cos(a)),
    y: angles.map((a) => cy + holes.prior_radius * Math.sin(a)),
    line: { color: "#7f1d1d", width: 1, dash: "dash" },
    hoverinfo: "skip",
    showlegend: false,
  };
}

const percent = (fraction) => `${(100 * fraction).toFixed(fraction < 0.01 ? 2 : 1)}%`;

// Each hole marked where prior samples land in it most, its share of the prior's mass in its hover text.
export function holeMarksTrace(holes) {
  return {
    type: "scatter",
    mode: "markers",
    uid: HOLES_TRACE,
    name: "prior holes",
    x: holes.holes.map((h) => h.x),
    y: holes.holes.map((h) => h.y),
    text: holes.holes.map((h) => `hole: ${percent(h.prior_mass)} of the prior's mass; q/p = ${Math.exp(h.log_ratio).toPrecision(2)} here`),
    hovertemplate: "%{text}<extra></extra>",
    marker: { symbol: "x-thin-open", size: 14, color: "#7f1d1d", line: { color: "#7f1d1d", width: 3 } },
    showlegend: false,
  };
}

// What the layer shows, in words: the prior's mass in holes, and how exact the ratio is.
export function holesText(holes) {
  const count = holes.holes.length;
  const disc = `${Math.round(100 * holes.prior_region)}% disc (dashed)`;
  const found = holes.hole_mass === 0
    ? `No holes on the map: q(z)/p(z) >= ${holes.hole_ratio} throughout the prior's ${disc}.`
    : `The prior puts ${percent(holes.hole_mass)} of its mass in holes, where q(z)/p(z) < ${holes.hole_ratio} within ` +
      `its ${disc}${count ? `, ${count} marked ×` : ""}: prior samples land there and decode to what no image encodes to.`;
  const where = holes.exact
    ? "exact on this 2-D model"
    : "on the PCA plane: the ratio of q's and p's projections onto it, so a hole off the plane does not show";
  const space = holes.exact ? "anywhere on the plane" : `anywhere in the whole ${holes.latent_dim}-D latent space`;
  const everywhere = `${percent(holes.full_space_hole_mass)} ± ${percent(holes.full_space_hole_mass_se)} of prior samples ` +
    `land in a hole ${space}.`;
  return (
    `${found} ${everywhere} Red: log q(z)/p(z) < 0; blue: > 0. q(z) is the mean of the ` +
    `${holes.images.toLocaleString("en")} test images' posteriors; ${where}.`
  );
}
