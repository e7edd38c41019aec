// Pure builders of the lab's Plotly figures: training curves, the map per epoch, the rate-distortion
// curve and the estimator variances. No DOM access here.
import { LEGEND_LIMIT, MODE_BAR_MARGIN, classColors, robustRange } from "./map-traces.js";

const LOSS_PARTS = [
  ["neg_elbo", "−ELBO"],
  ["reconstruction_nll", "reconstruction −E_q[log p(x|z)]"],
  ["kl", "KL(q(z|x) ‖ p(z))"],
];
const PART_COLORS = ["#1d2230", "#3358d4", "#c2410c"];

// The test KL term's two parts, I(x; z) and KL(q(z) ‖ p(z)), which add up to it, and the bound log N on
// the first: over the KL panel, for the epochs that measured them.
const SPLIT_PARTS = [
  ["test_mutual_information", "I(x; z)", "dot"],
  ["test_marginal_kl", "KL(q(z) ‖ p(z))", "dashdot"],
  ["test_information_bound", "bound on I: log N", "dot"],
];

function klSplitTraces(records, xaxis, yaxis) {
  const measured = records.filter((e) => e.test_mutual_information !== undefined);
  if (!measured.length) return [];
  return SPLIT_PARTS.map(([key, name, dash], i) => ({
    type: "scatter", mode: "lines", name, x: measured.map((e) => e.epoch), y: measured.map((e) => e[key]), xaxis, yaxis,
    line: { color: i === 2 ? "#9ca3af" : "#7c2d12", dash, width: i === 2 ? 1 : 2 },
  }));
}

// I(x; z) as the pages say it, in nats: its estimate can fall a hair below 0 by sampling noise, and the
// quantity cannot.
export const informationText = (information, digits = 2) => Math.max(0, information).toFixed(digits);

// What a run's records say of posterior collapse, or "": units that died (active once, not now), the
// information I(x; z) fallen to under half its best, or a code that says next to nothing about x.
export function collapseWarning(records) {
  const last = records.at(-1);
  if (!last) return "";
  const best = (key) => records.reduce((top, e) => (e[key] > (top?.[key] ?? -Infinity) ? e : top), null);
  const units = best("test_active_units");
  if (last.test_active_units < units.test_active_units) {
    return `Latent units died: ${last.test_active_units} active now, ${units.test_active_units} at epoch ${units.epoch}.`;
  }
  if (last.test_mutual_information === undefined) return "";
  const info = best("test_mutual_information");
  if (last.test_mutual_information < 0.05) {
    return `Posterior collapse: I(x; z) is ${informationText(last.test_mutual_information, 3)} nats, so z says next to nothing about x.`;
  }
  if (last.test_mutual_information < 0.5 * info.test_mutual_information) {
    return `I(x; z) fell from ${informationText(info.test_mutual_information)} nats (epoch ${info.epoch}) to ${informationText(last.test_mutual_information)}: the code is losing what it knew of x.`;
  }
  return "";
}

// Train (dashed) and test (solid) curves of the ELBO's parts, one y-axis per part: side by side, or
// stacked on a narrow screen. Each part's title sits just above its plot.
export function curvesFigure(history, { stacked = false } = {}) {
  const epochs = history.epochs.map((e) => e.epoch);
  const traces = [];
  const layout = {
    margin: { l: 50, r: 10, t: MODE_BAR_MARGIN + 24, b: stacked ? 40 : 70 },
    grid: stacked ? { rows: 3, columns: 1, pattern: "independent", ygap: 0.35 } : { rows: 1, columns: 3, pattern: "independent" },
    legend: { orientation: "h", y: stacked ? -0.08 : -0.4 }, // below the axes' titles
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
    if (key === "kl") traces.push(...klSplitTraces(history.epochs, `x${axis}`, `y${axis}`));
    layout[`xaxis${axis}`] = { title: { text: "epoch" }, dtick: epochs.length > 12 ? undefined : 1 };
    layout[`yaxis${axis}`] = { title: { text: "nats" } };
    layout.annotations.push({
      text: title, showarrow: false, xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0.5, y: 1, yanchor: "bottom", yshift: 4,
    });
  });
  return { data: traces, layout };
}

function snapshotGroups(snapshots, epoch, classCount) {
  const groups = Array.from({ length: classCount }, () => ({ x: [], y: [] }));
  snapshots.label.forEach((label, k) => {
    groups[label].x.push(snapshots.x[epoch][k]);
    groups[label].y.push(snapshots.y[epoch][k]);
  });
  return groups;
}

// The map after every epoch as Plotly frames, with a slider and a play button.
export function evolutionFigure(snapshots, classNames) {
  const last = snapshots.epochs.length - 1;
  const colors = classColors(classNames.length);
  const traces = snapshotGroups(snapshots, last, classNames.length).map((group, label) => ({
    type: "scatter",
    mode: "markers",
    name: classNames[label],
    x: group.x,
    y: group.y,
    marker: { size: 4, color: colors[label], opacity: 0.8 },
    hoverinfo: "skip",
    showlegend: classNames.length <= LEGEND_LIMIT,
  }));
  const frames = snapshots.epochs.map((epoch, e) => ({
    name: String(epoch),
    data: snapshotGroups(snapshots, e, classNames.length).map((group) => ({ x: group.x, y: group.y })),
  }));
  const all = (key) => snapshots[key].flat();
  const still = { mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } };
  const layout = {
    margin: { l: 40, r: 10, t: MODE_BAR_MARGIN, b: 10 },
    xaxis: { range: robustRange(all("x"), 0.05), zeroline: false },
    yaxis: { range: robustRange(all("y"), 0.05), zeroline: false, scaleanchor: "x" },
    legend: { title: { text: "class" }, itemsizing: "constant" },
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
  margin: { l: 60, r: 40, t: MODE_BAR_MARGIN, b: 50 },
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
      margin: { l: 60, r: 10, t: MODE_BAR_MARGIN, b: 45 },
      xaxis: { type: "log", title: { text: "samples S" } },
      yaxis: { type: "log", title: { text: "variance per gradient component" }, exponentformat: "power" },
      legend: { orientation: "h", y: -0.3 },
    },
  };
}
