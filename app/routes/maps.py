"""/api/models/{id}/map: a split's images (test, training, or both) on the model's latent map."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from app.deps import DensityMapsDep, ModelDep, PlanesDep
from app.limits import MAX_POINTS
from app.responses import map_body
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.models import LatentMap
from app.served_model import ServedModel
from model.data import MapSplit
from model.planes import PlaneMethod

router = APIRouter(prefix="/api/models", tags=["map"], responses=ERROR_RESPONSES)
log = logging.getLogger(__name__)


async def _prepare_all_points(served: ServedModel) -> None:
    try:
        await run_in_threadpool(map_body, served, "all", MAX_POINTS)
    except Exception:  # the request that asks for it will say what is wrong; the server keeps serving
        log.exception("could not prepare %s's map of both splits", served.model_id)


def prepare_all_points(served: ServedModel) -> None:
    """Encode the model's training split and serialise its map of both splits in the background (once),
    so that a visitor who turns to all the points does not wait for it (~0.7 s a model on a CPU)."""
    if served.preparing is None:
        served.preparing = asyncio.create_task(_prepare_all_points(served))


@router.get("/{model_id}/map", response_model=LatentMap)
async def latent_map(
    served: ModelDep,
    planes: PlanesDep,
    densities: DensityMapsDep,
    split: Annotated[MapSplit, Query(description="test, train, or all (the test points first)")] = "test",
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
    plane: Annotated[
        PlaneMethod, Query(description="pca (exact); umap or tsne once computed (see /planes/{method})")
    ] = "pca",
) -> Response:
    """A split's posterior means on the map plane, with their labels, their index in their split and
    per-axis sigma. The training split is encoded on its first request (seconds on a CPU), then kept. A
    split of more points than the server draws point by point is drawn as density: encoded first in the
    background (POST .../encodings), its response then lists no points and says so (`density`)."""
    if densities.is_large(served, split):
        densities.check_plane(served, split, plane)
        density = await run_in_threadpool(densities.density, served, split)
        body = await run_in_threadpool(map_body, served, split, limit, None, density)
        return Response(body, media_type="application/json")
    if plane != "pca":
        nonlinear = await planes.plane(served, split, plane)
        body = await run_in_threadpool(map_body, served, split, limit, nonlinear)
        return Response(body, media_type="application/json")
    # The test split's map is serialised at start-up: served from memory without a thread hop. The
    # others may first have to encode the training split, which must not hold the event loop.
    if split != "test":
        body = await run_in_threadpool(map_body, served, split, limit)
        return Response(body, media_type="application/json")
    if not densities.is_large(served, "all"):
        prepare_all_points(served)  # someone is looking: get the other points ready meanwhile
    return Response(map_body(served, split, limit), media_type="application/json")
