"""/api/models/{id}/selection: a lasso or box selection of the map summarised, and exported as CSV; the
points a box or lasso holds where the page draws density rather than points."""

from __future__ import annotations

import torch
from fastapi import APIRouter, HTTPException, Response
from starlette.concurrency import run_in_threadpool

from app.deps import DensityMapsDep, ModelDep
from app.downloads import attachment
from app.images import png_data_urls
from app.limits import MAX_POINTS
from app.params import invalid
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.selection import RegionMembers, RegionRequest, SelectionRequest, SelectionSummary
from model.selection import region_members, select, selection_csv

router = APIRouter(prefix="/api/models", tags=["selection"], responses=ERROR_RESPONSES)


@router.post("/{model_id}/selection")
async def summarise(served: ModelDep, request: SelectionRequest) -> SelectionSummary:
    """How many images the selection holds, how many of each class, and its mean encoding (on the
    map and decoded)."""
    latent_map = await run_in_threadpool(served.map_of, request.split)
    classes = len(served.dataset.info.class_names)
    try:
        chosen = select(latent_map, request.indices, classes, served.noun(request.split))
    except ValueError as error:
        raise HTTPException(404, str(error)) from error
    return SelectionSummary(
        count=len(chosen.indices),
        class_counts=chosen.class_counts,
        mean_z=chosen.mean_z.tolist(),
        mean_map_xy=latent_map.plane.project(chosen.mean_z).tolist(),
        mean_image=png_data_urls(served.loaded.decode(chosen.mean_z[None]))[0],
    )


@router.post(
    "/{model_id}/selection.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}}
)
async def export_csv(served: ModelDep, request: SelectionRequest) -> Response:
    """The selection as CSV: index, split, label, map x, y and the full z (q's mean), one row per member."""
    latent_map = await run_in_threadpool(served.map_of, request.split)
    split = request.split
    names = served.dataset.info.class_names
    try:
        body = selection_csv(
            latent_map, request.indices, names, lambda p: served.point_of(split, p), served.noun(split)
        )
    except ValueError as error:
        raise HTTPException(404, str(error)) from error
    return attachment(body, "text/csv", f"{served.model_id}-selection.csv")


@router.post("/{model_id}/selection/region")
async def select_region(served: ModelDep, densities: DensityMapsDep, request: RegionRequest) -> RegionMembers:
    """The points of a split's map inside a box or lasso (on the exact plane): how a selection is made
    where the page draws density, not points (a large split must be encoded first: 409 until it is). At
    most MAX_POINTS of them make one selection."""

    def members() -> torch.Tensor:
        latent_map = densities.encoded(served, request.split)
        try:
            return region_members(latent_map, request.polygon, request.labels, MAX_POINTS)
        except ValueError as error:
            raise invalid("polygon", str(error)) from error

    inside = await run_in_threadpool(members)
    return RegionMembers(count=len(inside), indices=inside.tolist())
