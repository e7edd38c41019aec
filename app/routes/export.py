"""/api/models/{id}/export.html: the map as one self-contained HTML file (its points by class, and the
images decoded on a grid over the view for hover), which opens with no server, as Embedding Atlas
exports an app."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.density_state import REGION_LIMIT, DensityMaps
from app.deps import DensityMapsDep, ModelDep, ShownPlaneDep
from app.images import mosaic, png_bytes
from app.limits import MAX_POINTS
from app.params import Range
from app.plane_state import SPLIT_NOUNS, ShownPlane
from app.responses import map_body, region_points
from app.schemas.errors import ERROR_RESPONSES
from app.served_model import ServedModel
from app.templating import PLOTLY_FILE, STATIC, templates
from model.density import TileBox
from model.latent_map import cell_centres

router = APIRouter(prefix="/api/models", tags=["export"], responses=ERROR_RESPONSES)
MAX_EXPORT_GRID = 48
# The export's own modules, inlined as data: URLs under the bare names its import map gives them.
EXPORT_MODULES = {"map-traces": "map-traces.js", "export-page": "export-page.js"}


@cache
def _inlined() -> dict[str, object]:
    """What every export holds the same: the Plotly bundle and its modules as data: URLs (read once)."""
    modules = {
        name: "data:text/javascript;base64," + base64.b64encode((STATIC / "js" / file).read_bytes()).decode()
        for name, file in EXPORT_MODULES.items()
    }
    return {"plotly": PLOTLY_FILE.read_text(encoding="utf-8"), "modules": modules}


def _map(served: ServedModel, shown: ShownPlane, densities: DensityMaps, view: TileBox) -> dict[str, object]:
    """The map response to draw: the split's, or of a map drawn as density, the points in the view."""
    if not densities.is_large(served, shown.split):
        return dict(json.loads(map_body(served, shown.split, MAX_POINTS, shown.nonlinear)))
    density = densities.density(served, shown.split)
    inside = density.region(view)
    if len(inside) > REGION_LIMIT:
        raise HTTPException(
            400,
            f"the view holds {len(inside):,} points; an export of a map drawn as density holds at most "
            f"{REGION_LIMIT:,}: zoom in (x_range, y_range)",
        )
    body = json.loads(map_body(served, shown.split, MAX_POINTS, None, density))
    return {**body, **region_points(density, inside)}


def _contents(
    served: ServedModel,
    shown: ShownPlane,
    densities: DensityMaps,
    ranges: tuple[list[float] | None, ...],
    n: int,
) -> dict[str, object]:
    (x_low, x_high), (y_low, y_high) = (
        shown.check_range(given, f"{'xy'[axis]}_range") if given else shown.extent(axis)
        for axis, given in enumerate(ranges)
    )
    x_axis, y_axis = cell_centres(x_low, x_high, n), cell_centres(y_low, y_high, n)
    tiles = served.loaded.decode(shown.grid_latents(x_axis, y_axis.flip(0)))  # top row: the largest y
    sprite = "data:image/png;base64," + base64.b64encode(png_bytes(mosaic(tiles, n))).decode()
    return {
        "map": _map(served, shown, densities, TileBox(x_low, x_high, y_low, y_high)),
        "grid": {
            "n": n,
            "x_range": [x_low, x_high],
            "y_range": [y_low, y_high],
            "sprite": sprite,
        },
        "title": served.loaded.title,
        "points": SPLIT_NOUNS[shown.split],
        **_inlined(),
        "exported": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


@router.get(
    "/{model_id}/export.html", response_class=Response, responses={200: {"content": {"text/html": {}}}}
)
async def export_map(
    request: Request,
    served: ModelDep,
    shown: ShownPlaneDep,
    densities: DensityMapsDep,
    x_range: Annotated[Range | None, Query(description="the view: 'low,high' (default: all points)")] = None,
    y_range: Annotated[Range | None, Query(description="'low,high'")] = None,
    n: Annotated[int, Query(ge=4, le=MAX_EXPORT_GRID, description="hover's grid: n x n decoded images")] = 32,
) -> Response:
    """The map of a split (`split`) on the plane shown, as one HTML file to keep or send: the points
    coloured by class, and hover showing the image decoded at the nearest of n x n grid points over the
    view (Plotly and every image inside; nothing is fetched). About 5 MB, most of it Plotly. Of a map
    drawn as density, the points in the view (at most as many as the page draws as points)."""
    split = shown.split
    contents = await run_in_threadpool(_contents, served, shown, densities, (x_range, y_range), n)
    plane = shown.nonlinear.method if shown.nonlinear else "pca"
    name = f"{served.model_id}-{split}-{plane}-map.html"
    response = templates.TemplateResponse(request, "export.html", contents)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
