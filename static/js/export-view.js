// "Export view": the map as the page shows it (model, split, plane, zoom) as one self-contained HTML file.
import { view } from "./explorer-map.js";
import { viewRange } from "./map-traces.js";

const $ = (id) => document.getElementById(id);

// The export's URL for the view shown now.
function exportUrl() {
  const { x, y } = viewRange(view.graph);
  const clamp = (v) => Math.max(-view.map.coordinate_limit, Math.min(view.map.coordinate_limit, v));
  const params = new URLSearchParams({ split: view.split, plane: view.plane, x_range: x.map(clamp).join(","), y_range: y.map(clamp).join(",") });
  return `/api/models/${encodeURIComponent(view.model)}/export.html?${params}`;
}

export function init() {
  $("export-view").addEventListener("click", () => {
    const link = document.createElement("a");
    link.href = exportUrl();
    link.download = "";
    link.click();
  });
}
