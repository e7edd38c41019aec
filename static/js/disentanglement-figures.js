// Pure builders of the lab's disentanglement figures (static/js/disentanglement.js draws them): the scores
// table's rows, the factor x latent information matrix, and the sweep's two scatters.
import { MODE_BAR_MARGIN } from "./map-traces.js";

// The objectives as the sweep names and colours them (model/config.py's loss modes).
const OBJECTIVES = {
  full: { name: "VAE", color: "#3358d4" },
  beta: { name: "β-VAE", color: "#dc2626" },
  tcvae: { name: "β-TCVAE", color: "#15803d" },
  factorvae: { name: "FactorVAE", color: "#b45309" },
  recon: { name: "reconstruction only", color: "#6b7280" },
};
const objectiveOf = (model) => OBJECTIVES[model.loss] ?? { name: model.loss ?? "your own model", color: "#6b21a8" };

// "mean ± standard error (n seeds)", or the one seed's value.
export function spreadText({ mean, standard_error: error, seeds }) {
  if (error === null) return `${mean.toFixed(3)} (1 seed)`;
  return `${mean.toFixed(3)} ± ${error.toFixed(3)} (${seeds} seeds)`;
}

// One row per score: its title and meaning, this model's value, and its spread over the recipe's seeds.
export function scoreRows(result) {
  return result.metrics.map(({ name, title, description }) => ({
    name, title, description, value: result.figures[name].toFixed(3), spread: spreadText(result.seeds[name]),
  }));
}

// The factor x latent matrix as a heatmap: a row per factor, a column per latent, each cell's share of the
// factor's entropy; customdata carries the latent's index for the click that opens its page.
export function informationFigure(result) {
  const dims = result.information.length;
  const columns = Array.from({ length: dims }, (_, d) => `z${d}`);
  const z = result.factors.map((_, k) => result.information.map((row) => row[k]));
  return {
    data: [{
      type: "heatmap", x: columns, y: result.factors, z, zmin: 0, zmax: 1,
      colorscale: [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
      customdata: result.factors.map(() => columns.map((_, d) => d)),
      text: z.map((row) => row.map((value) => value.toFixed(2))), texttemplate: "%{text}",
      colorbar: { title: { text: "I / H" } },
      hovertemplate: "%{x} carries %{z:.3f} of %{y}'s entropy<br>click: open %{x}'s page<extra></extra>",
    }],
    layout: {
      margin: { l: 90, r: 10, t: MODE_BAR_MARGIN, b: 40 },
      xaxis: { title: { text: "latent dimension" }, type: "category" },
      yaxis: { title: { text: "factor" }, type: "category", autorange: "reversed" },
    },
  };
}

// Scored models by objective: one trace each, a point per model (each seed its own), its id in customdata.
function byObjective(models, x, { xTitle, metricTitle }) {
  const groups = new Map();
  for (const model of models.filter((m) => m.figures !== null && x(m) !== null)) {
    const objective = objectiveOf(model);
    if (!groups.has(objective.name)) groups.set(objective.name, { objective, models: [] });
    groups.get(objective.name).models.push(model);
  }
  return [...groups.values()].map(({ objective, models: members }) => ({
    type: "scatter", mode: "markers", name: objective.name, marker: { size: 10, color: objective.color, opacity: 0.8 },
    x: members.map(x), y: members.map((m) => m.metric), customdata: members.map((m) => m.model_id),
    text: members.map((m) => `${m.model_id} (seed ${m.seed ?? "?"})`),
    hovertemplate: `%{text}<br>${xTitle} %{x:.3g}<br>${metricTitle} %{y:.3f}<br>click: open it<extra></extra>`,
  }));
}

// The spread over seeds at each (objective, beta): the mean with its standard error as an error bar.
function seedMeans(models, metricTitle) {
  const groups = new Map();
  for (const model of models.filter((m) => m.figures !== null && m.beta !== null)) {
    const key = `${objectiveOf(model).name}|${model.beta}`;
    if (!groups.has(key)) groups.set(key, { objective: objectiveOf(model), beta: model.beta, values: [] });
    groups.get(key).values.push(model.metric);
  }
  const several = [...groups.values()].filter((group) => group.values.length > 1);
  const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const error = (values) => {
    const m = mean(values);
    return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1) / values.length);
  };
  return several.map((group) => ({
    type: "scatter", mode: "markers", name: `${group.objective.name}: mean ± SE`, showlegend: false,
    x: [group.beta], y: [mean(group.values)], error_y: { type: "data", array: [error(group.values)], color: group.objective.color, thickness: 2, width: 8 },
    marker: { symbol: "line-ew-open", size: 22, color: group.objective.color, line: { width: 3 } },
    hovertemplate: `${group.objective.name}, β = ${group.beta}: ${metricTitle} %{y:.3f} ± %{error_y.array:.3f} over ${group.values.length} seeds<extra></extra>`,
  }));
}

// The sweep's two figures for one score: against beta (with the mean ± SE over seeds), and against each
// model's reconstruction term (nats); models not scored yet are left out.
export function sweepFigures(sweep, metricName) {
  const metricTitle = sweep.metrics.find((m) => m.name === metricName).title;
  const models = sweep.models.map((m) => ({ ...m, metric: m.figures ? m.figures[metricName] : null }));
  const layout = (xTitle) => ({
    margin: { l: 60, r: 10, t: MODE_BAR_MARGIN, b: 50 },
    xaxis: { title: { text: xTitle }, zeroline: false },
    yaxis: { title: { text: metricTitle }, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.25 },
  });
  const betaTitle = "β (β-TCVAE, FactorVAE: the total correlation's weight)";
  const reconstructionTitle = "reconstruction: −E_q[log p(x|z)], nats";
  return {
    byBeta: {
      data: [...byObjective(models, (m) => m.beta, { xTitle: "β", metricTitle }), ...seedMeans(models, metricTitle)],
      layout: layout(betaTitle),
    },
    byReconstruction: {
      data: byObjective(models, (m) => m.reconstruction_nll, { xTitle: "reconstruction", metricTitle }),
      layout: layout(reconstructionTitle),
    },
  };
}

// What the sweep holds: how many models are scored, computing and not started.
export function sweepStatus(sweep) {
  const count = (state) => sweep.models.filter((m) => m.state === state).length;
  const [ready, computing, failed] = [count("ready"), count("computing"), count("failed")];
  const parts = [`${ready} of ${sweep.models.length} models scored`];
  if (computing) parts.push(`${computing} being scored, one at a time`);
  if (failed) parts.push(`${failed} failed`);
  return parts.join("; ");
}
