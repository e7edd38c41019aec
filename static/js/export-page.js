// An exported map (one HTML file, no server): the points by class and, under the cursor, the image decoded
// at the nearest point of the grid decoded over the view when it was exported. The export inlines this
// module and map-traces.js, which it imports by the bare name the export's import map gives it.
import { PLOT_CONFIG, axisTitles, cursorToData, mapLayout, mapTraces } from "map-traces";

const SHOWN = 112; // pixels a decoded image is shown at

// The grid cell holding map point p, row 0 at the top (the largest y), or null outside the grid.
export function cellOf(grid, p) {
  const [x0, x1] = grid.x_range;
  const [y0, y1] = grid.y_range;
  const column = Math.floor(((p.x - x0) / (x1 - x0)) * grid.n);
  const row = Math.floor(((y1 - p.y) / (y1 - y0)) * grid.n);
  return column >= 0 && column < grid.n && row >= 0 && row < grid.n ? { row, column } : null;
}

export function start({ map, grid }) {
  const graph = document.getElementById("map");
  const tile = document.getElementById("tile");
  const coords = document.getElementById("coords");
  const layout = mapLayout({ xRange: grid.x_range, yRange: grid.y_range, classNames: map.class_names, axes: axisTitles(map.plane) });
  Plotly.newPlot(graph, mapTraces(map), layout, PLOT_CONFIG);
  tile.style.backgroundImage = `url(${grid.sprite})`;
  tile.style.backgroundSize = `${SHOWN * grid.n}px ${SHOWN * grid.n}px`;
  graph.addEventListener("mousemove", (event) => {
    const p = cursorToData(graph, event);
    const cell = p && cellOf(grid, p);
    if (!cell) return;
    tile.style.backgroundPosition = `${-cell.column * SHOWN}px ${-cell.row * SHOWN}px`;
    tile.dataset.cell = `${cell.row},${cell.column}`;
    coords.textContent = `x ${p.x.toFixed(2)}, y ${p.y.toFixed(2)}`;
  });
}
