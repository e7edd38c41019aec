"""/api/models/{id}/encodings and /map/view, /map/tiles: a map too large to draw point by point. Its split
is encoded in the background (start, progress); a view of it is drawn as density tiles (datashader
aggregates, tiled by zoom) or, where it holds few points, as those points."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import StringConstraints
from starlette.concurrency import run_in_threadpool

from app.density_state import REGION_LIMIT, DensityMaps
from app.deps import DensityMapsDep, ModelDep
from app.params import CommaSeparated, Range, invalid
from app.responses import region_points
from app.schemas.density import EncodingProgress, MapView, Tile, ViewPoints
from app.schemas.errors import ERROR_RESPONSES
from app.served_model import ServedModel
from model.data import MapSplit
from model.density import MAX_ZOOM, TileBox

router = APIRouter(prefix="/api/models", tags=["density"], responses=ERROR_RESPONSES)
SplitQuery = Annotated[MapSplit, Query(description="test, train or all (the test images first)")]
Colour = Annotated[str, StringConstraints(pattern=r"^([0-9a-fA-F]{6})?$")]


@router.post("/{model_id}/encodings", status_code=202)
async def start_encoding(
    served: ModelDep, densities: DensityMapsDep, split: SplitQuery = "train"
) -> EncodingProgress:
    """Encode the split in the background (once; the training split's encodings are cached beside the
    model): a million glyphs take about 10 s on two cores for a 16-D MLP."""
    return EncodingProgress.of(densities.start(served, split), split=split)


@router.get("/{model_id}/encodings")
async def encoding_progress(
    served: ModelDep, densities: DensityMapsDep, split: SplitQuery = "train"
) -> EncodingProgress:
    """Whether the split is encoded, encoding (how far) or failed."""
    return EncodingProgress.of(densities.status(served, split), split=split)


def _view(served: ServedModel, densities: DensityMaps, split: MapSplit, box: TileBox, pixels: int) -> MapView:
    density = densities.density(served, split)
    inside = density.region(box)
    if len(inside) <= REGION_LIMIT:
        return MapView(count=len(inside), tiles=[], points=ViewPoints(**region_points(density, inside)))
    zoom, tiles = density.tiles_over(box, pixels)
    return MapView(
        count=len(inside),
        tiles=[Tile(zoom=zoom, i=i, j=j, x=[t.x0, t.x1], y=[t.y0, t.y1]) for i, j, t in tiles],
        points=None,
    )


@router.get("/{model_id}/map/view")
async def map_view(
    served: ModelDep,
    densities: DensityMapsDep,
    x: Annotated[Range, Query(description="the view's x range, 'low,high'")],
    y: Annotated[Range, Query(description="the view's y range, 'low,high'")],
    pixels: Annotated[int, Query(ge=1, le=16_384, description="the view's width on the screen")],
    split: SplitQuery = "train",
) -> MapView:
    """What to draw for a view of a split's map: its points when it holds no more than the map's
    region_limit, else the density tiles that cover it at about one tile pixel per screen pixel."""
    box = TileBox(x[0], x[1], y[0], y[1])
    return await run_in_threadpool(_view, served, densities, split, box, pixels)


@router.get(
    "/{model_id}/map/tiles/{zoom}/{i}/{j}.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "the tile, 256 x 256, transparent where empty"}
    },
)
async def map_tile(
    served: ModelDep,
    densities: DensityMapsDep,
    zoom: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    i: Annotated[int, Path(ge=0)],
    j: Annotated[int, Path(ge=0)],
    colors: Annotated[
        list[Colour],
        CommaSeparated,
        Query(
            description="a colour per class, 'rrggbb' (no '#'), empty for a class left out: '1f77b4,,2ca02c'"
        ),
    ],
    split: SplitQuery = "train",
) -> Response:
    """One density tile: each pixel's classes mixed by their counts, its opacity by the total (on one
    scale per zoom level)."""
    classes = len(served.dataset.info.class_names)
    if len(colors) != classes:
        raise invalid("colors", f"{served.model_id} has {classes} classes; got {len(colors)} colours")

    def render() -> bytes:
        density = densities.density(served, split)
        try:
            return density.tile_png(zoom, i, j, tuple(f"#{c}" if c else None for c in colors))
        except ValueError as error:  # a tile off the zoom level's grid
            raise invalid("tile", str(error)) from error

    png = await run_in_threadpool(render)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
