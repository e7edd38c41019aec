// Pure builders of Plotly traces and layouts, and map geometry. No DOM access here.

export const DIGIT_COLORS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

// One scattergl trace per digit, so the legend toggles digits. customdata holds each test index.
export function mapTraces(map, { markerSize = 3, showlegend = true } = {}) {
  const byLabel = Array.from({ length: 10 }, () => ({ x: [], y: [], index: [] }));
  for (let i = 0; i < map.x.length; i += 1) {
    const group = byLabel[map.label[i]];
    group.x.push(map.x[i]);
    group.y.push(map.y[i]);
    group.index.push(map.index[i]);
  }
  return byLabel.map((group, label) => ({
    type: "scattergl",
    mode: "markers",
    name: String(label),
    x: group.x,
    y: group.y,
    customdata: group.index,
    marker: { size: markerSize, color: DIGIT_COLORS[label], opacity: 0.75 },
    hoverinfo: "none",
    showlegend,
  }));
}

export function mapLayout({ xRange, yRange, legend = true, margin = 30 } = {}) {
  return {
    margin: { l: margin + 10, r: 10, t: 10, b: margin },
    xaxis: { range: xRange, zeroline: false, title: { text: "z₁" } },
    yaxis: { range: yRange, zeroline: false, title: { text: "z₂" }, scaleanchor: "x", scaleratio: 1 },
    dragmode: "zoom",
    hovermode: "closest",
    showlegend: legend,
    legend: { title: { text: "digit" }, itemsizing: "constant" },
    uirevision: "keep",
  };
}

export const PLOT_CONFIG = { responsive: true, displaylogo: false, doubleClick: false, scrollZoom: true };

// Numbered markers for encoded drawings and uploads, with their 2-sigma ellipses as shapes.
export function drawingsTrace(drawings) {
  return {
    type: "scatter",
    mode: "markers+text",
    name: "your digits",
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

export function lineShape(from, to) {
  return {
    type: "line", xref: "x", yref: "y", x0: from.x, y0: from.y, x1: to.x, y1: to.y,
    line: { color: "#000", width: 3 },
  };
}

export function highlightTrace(point) {
  return {
    type: "scatter",
    mode: "markers",
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

// The test digit nearest to (x, y) on the map: { index, distance } in map units.
export function nearestDigit(map, x, y) {
  let best = -1;
  let bestDistance = Infinity;
  for (let i = 0; i < map.x.length; i += 1) {
    const d = (map.x[i] - x) ** 2 + (map.y[i] - y) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return { index: map.index[best], position: best, distance: Math.sqrt(bestDistance) };
}

// Map coordinates -> the full latent vector, through the PCA plane when the model has one.
export function liftToLatent(map, x, y) {
  if (!map.projection) return [x, y];
  const { mean, components } = map.projection;
  return mean.map((m, d) => m + x * components[0][d] + y * components[1][d]);
}

// Cursor position -> data coordinates, from Plotly's axes (null outside the plotting area).
export function cursorToData(graph, event) {
  const layout = graph._fullLayout;
  const area = graph.querySelector(".nsewdrag");
  if (!layout || !area) return null;
  const box = area.getBoundingClientRect();
  const px = event.clientX - box.left;
  const py = event.clientY - box.top;
  if (px < 0 || py < 0 || px > box.width || py > box.height) return null;
  return { x: layout.xaxis.p2c(px), y: layout.yaxis.p2c(py), px, py };
}

// Pixels per map unit along x: to turn a snapping radius in pixels into map units.
export function pixelsPerUnit(graph) {
  const axis = graph._fullLayout.xaxis;
  return Math.abs(axis.c2p(1) - axis.c2p(0));
}

// Standard deviations of q(z|x) along the two map axes (through the PCA plane when there is one).
export function sigmaOnMap(map, sigma) {
  if (!map.projection) return [sigma[0], sigma[1]];
  return map.projection.components.map((row) =>
    Math.sqrt(row.reduce((sum, c, d) => sum + c * c * sigma[d] * sigma[d], 0)),
  );
}

// The data of one trace, as Plotly.restyle wants it (arrays read as one value per trace, so each is
// wrapped). Only data: restyling the trace type or styling would make Plotly autorange the axes again.
export function restyleUpdate(trace, keys = ["x", "y", "text"]) {
  return Object.fromEntries(keys.filter((key) => key in trace).map((key) => [key, [trace[key]]]));
}

// The classifier's reading of the decoded digit at each grid point, as a heatmap under the points.
export function decisionTrace(decision) {
  const last = DIGIT_COLORS.length - 1;
  return {
    type: "heatmap",
    name: "decision map",
    x: decision.x,
    y: decision.y,
    z: decision.label,
    zmin: -0.5,
    zmax: last + 0.5,
    // Each digit's colour over [d - 0.5, d + 0.5]: a step colorscale, so no two digits blend.
    colorscale: DIGIT_COLORS.flatMap((color, d) => [[d / (last + 1), color], [(d + 1) / (last + 1), color]]),
    opacity: 0.3,
    showscale: false,
    hoverinfo: "skip",
    showlegend: false,
  };
}

// --- the lab: pure figure builders ------------------------------------------------------------------
const LOSS_PARTS = [
  ["neg_elbo", "−ELBO"],
  ["reconstruction_nll", "reconstruction −E_q[log p(x|z)]"],
  ["kl", "KL(q(z|x) ‖ p(z))"],
];
const PART_COLORS = ["#1d2230", "#3358d4", "#c2410c"];

// Train (dashed) and test (solid) curves of the ELBO's parts, one y-axis per part: side by side, or
// stacked on a narrow screen.
export function curvesFigure(history, { stacked = false } = {}) {
  const epochs = history.epochs.map((e) => e.epoch);
  const traces = [];
  const layout = {
    margin: { l: 50, r: 10, t: 30, b: 40 },
    grid: stacked ? { rows: 3, columns: 1, pattern: "independent", ygap: 0.35 } : { rows: 1, columns: 3, pattern: "independent" },
    legend: { orientation: "h", y: stacked ? -0.08 : -0.25 },
    annotations: [],
  };
  LOSS_PARTS.forEach(([key, title], i) => {
    const axis = i === 0 ? "" : String(i + 1);
    for (const split of ["train", "test"]) {
      traces.push({
        type: "scatter",
        mode: "lines+markers",
        name: split,
        legendgroup: split,
        showlegend: i === 0,
        x: epochs,
        y: history.epochs.map((e) => e[`${split}_${key}`]),
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
        line: { color: PART_COLORS[i], dash: split === "train" ? "dash" : "solid" },
        marker: { size: 4 },
      });
    }
    layout[`xaxis${axis}`] = { title: { text: "epoch" }, dtick: epochs.length > 12 ? undefined : 1 };
    layout[`yaxis${axis}`] = { title: { text: "nats" } };
    layout.annotations.push({
      text: title, showarrow: false, xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0.5, y: 1.12,
    });
  });
  return { data: traces, layout };
}

function snapshotGroups(snapshots, epoch) {
  const groups = Array.from({ length: 10 }, () => ({ x: [], y: [] }));
  snapshots.label.forEach((label, k) => {
    groups[label].x.push(snapshots.x[epoch][k]);
    groups[label].y.push(snapshots.y[epoch][k]);
  });
  return groups;
}

// The map after every epoch as Plotly frames, with a slider and a play button.
export function evolutionFigure(snapshots) {
  const last = snapshots.epochs.length - 1;
  const traces = snapshotGroups(snapshots, last).map((group, label) => ({
    type: "scatter",
    mode: "markers",
    name: String(label),
    x: group.x,
    y: group.y,
    marker: { size: 4, color: DIGIT_COLORS[label], opacity: 0.8 },
    hoverinfo: "skip",
  }));
  const frames = snapshots.epochs.map((epoch, e) => ({
    name: String(epoch),
    data: snapshotGroups(snapshots, e).map((group) => ({ x: group.x, y: group.y })),
  }));
  const all = (key) => snapshots[key].flat();
  const still = { mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } };
  const layout = {
    margin: { l: 40, r: 10, t: 10, b: 10 },
    xaxis: { range: robustRange(all("x"), 0.05), zeroline: false },
    yaxis: { range: robustRange(all("y"), 0.05), zeroline: false, scaleanchor: "x" },
    legend: { title: { text: "digit" }, itemsizing: "constant" },
    sliders: [{
      active: last,
      currentvalue: { prefix: "epoch " },
      pad: { t: 30 },
      steps: snapshots.epochs.map((epoch) => ({ label: String(epoch), method: "animate", args: [[String(epoch)], still] })),
    }],
    updatemenus: [{
      type: "buttons",
      showactive: false,
      x: 0, y: 0, xanchor: "right", yanchor: "top", pad: { t: 40, r: 10 },
      buttons: [{
        label: "▶ play",
        method: "animate",
        args: [null, { mode: "immediate", fromcurrent: false, frame: { duration: 600, redraw: false }, transition: { duration: 400 } }],
      }],
    }],
  };
  return { data: traces, layout, frames };
}

// The rate-distortion curve of the beta sweep, with the chosen model ringed and named (naming every
// point would pile the labels up at the curve's knee; hovering names the others).
export function rateDistortionTraces(points, chosen) {
  const trained = points.filter((p) => p.trained);
  const name = (p) => (p.beta === null ? "KL only" : `β = ${p.beta}`);
  return [
    {
      type: "scatter",
      mode: "lines+markers",
      name: "models",
      x: trained.map((p) => p.rate),
      y: trained.map((p) => p.distortion),
      text: trained.map(name),
      marker: { size: 8, color: "#3358d4" },
      line: { color: "#3358d4" },
      hovertemplate: "%{text}<br>rate %{x:.2f} nats<br>distortion %{y:.2f} nats<extra></extra>",
      showlegend: false,
    },
    {
      type: "scatter",
      mode: "markers+text",
      name: "chosen",
      x: chosen ? [chosen.rate] : [],
      y: chosen ? [chosen.distortion] : [],
      text: chosen ? [name(chosen)] : [],
      textposition: "top right",
      textfont: { size: 14, color: "#c2410c" },
      cliponaxis: false,
      marker: { size: 18, color: "rgba(0,0,0,0)", line: { color: "#c2410c", width: 3 } },
      hoverinfo: "skip",
      showlegend: false,
    },
  ];
}

export const RATE_DISTORTION_LAYOUT = {
  margin: { l: 60, r: 40, t: 20, b: 50 },
  xaxis: { title: { text: "rate: KL(q(z|x) ‖ p(z)), nats" }, zeroline: false },
  yaxis: { title: { text: "distortion: −E_q[log p(x|z)], nats" }, zeroline: false },
};

// Estimator variance against the number of samples S, both axes logarithmic: solid for the encoder's
// weights, dashed for (mu, log sigma^2) of q(z|x).
export function estimatorFigure(result) {
  const line = (name, y, color, dash) => ({
    type: "scatter", mode: "lines+markers", name, x: result.samples, y, line: { color, dash }, marker: { size: 7 },
  });
  return {
    data: [
      line("score function (REINFORCE, Eq. 20), encoder weights", result.score_encoder_variance, "#c2410c", "solid"),
      line("reparametrization (Eq. 23–27), encoder weights", result.reparam_encoder_variance, "#3358d4", "solid"),
      line("score function, (μ, log σ²)", result.score_variance, "#c2410c", "dot"),
      line("reparametrization, (μ, log σ²)", result.reparam_variance, "#3358d4", "dot"),
    ],
    layout: {
      margin: { l: 60, r: 10, t: 10, b: 45 },
      xaxis: { type: "log", title: { text: "samples S" } },
      yaxis: { type: "log", title: { text: "variance per gradient component" }, exponentformat: "power" },
      legend: { orientation: "h", y: -0.3 },
    },
  };
}
