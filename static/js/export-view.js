// "Export view": the map as the page shows it (model, split, plane, zoom) as one self-contained HTML file.
import * as api from "./api.js";
import { view } from "./explorer-map.js";
import { viewRange } from "./map-traces.js";
import { guarded } from "./ui.js";

const $ = (id) => document.getElementById(id);

// The export's URL for the view shown now.
function exportUrl() {
  const { x, y } = viewRange(view.graph);
  const clamp = (v) => Math.max(-view.map.coordinate_limit, Math.min(view.map.coordinate_limit, v));
  return api.exportUrl(view.model, { split: view.split, plane: view.plane, x_range: x.map(clamp).join(","), y_range: y.map(clamp).join(",") });
}

export function init() {
  $("export-view").addEventListener("click", () => guarded(async () => {
    if (view.map.density && view.region.size === 0) {
      throw new Error(`zoom in until the map is drawn as points (at most ${view.map.density.region_limit.toLocaleString("en-US")}) to export it`);
    }
    const link = document.createElement("a");
    link.href = exportUrl();
    link.download = "";
    link.click();
  }));
}
