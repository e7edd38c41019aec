"""What a model generates: the decoded manifold over the map, and decoded draws from the prior or from the
aggregate posterior."""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from app.deps import LabDep, ModelDep, ShownPlaneDep
from app.images import mosaic, png_bytes
from app.params import Range
from app.plane_state import ShownPlane
from app.responses import decoded_points
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.latents import DecodedPoints, Samples
from app.served_model import ServedModel
from model.aggregate_posterior import aggregate_draws
from model.latent_map import cell_centres, gaussian_axis

router = APIRouter(prefix="/api/models", tags=["generate"], responses=ERROR_RESPONSES)
MAX_GRID = 40
MAX_PRIOR_SAMPLES = 256
PNG = "image/png"


def _axis_range(
    shown: ShownPlane, given: list[float] | None, extent: float, axis: int
) -> tuple[float, float]:
    """A linear grid's span along an axis: the range given, else +-extent (the plane's extent on a UMAP or
    t-SNE plane, whose coordinates are not the prior's)."""
    if given:
        return shown.check_range(given, "xy"[axis] + "_range")
    if shown.nonlinear is None:
        return shown.check_range([-extent, extent], "extent")
    return shown.extent(axis)


@router.get("/{model_id}/grid.png", response_class=Response, responses={200: {"content": {PNG: {}}}})
async def grid_png(
    served: ModelDep,
    shown: ShownPlaneDep,
    n: Annotated[int, Query(ge=2, le=MAX_GRID)] = 20,
    spacing: Literal["gaussian", "linear"] = "gaussian",
    extent: Annotated[
        float, Query(gt=0, le=1000, description="with linear spacing: the grid spans +-extent")
    ] = 3.0,
    x_range: Annotated[
        Range | None, Query(description="with linear spacing: 'low,high' (e.g. a zoomed view)")
    ] = None,
    y_range: Annotated[Range | None, Query(description="with linear spacing: 'low,high'")] = None,
) -> Response:
    """The decoded manifold: an n x n mosaic of decoded images over the map plane, y increasing upwards.
    With linear spacing, tile centres sit at the centres of n equal cells of the range. On a UMAP or
    t-SNE plane each tile is the estimate at its centre, linearly spaced (over the plane's extent by
    default)."""
    if spacing == "gaussian" and shown.nonlinear is None:
        x_axis = y_axis = gaussian_axis(n)
    else:
        x_low, x_high = _axis_range(shown, x_range, extent, 0)
        y_low, y_high = _axis_range(shown, y_range, extent, 1)
        x_axis, y_axis = cell_centres(x_low, x_high, n), cell_centres(y_low, y_high, n)
    # The top row is the largest y, as on a plot.
    tiles = served.loaded.decode(shown.grid_latents(x_axis, y_axis.flip(0)))
    return Response(png_bytes(mosaic(tiles, n)), media_type=PNG)


def _aggregate_samples(served: ServedModel, n: int, seed: int) -> DecodedPoints:
    loaded = served.loaded
    z = aggregate_draws(loaded.network, served.dataset.train, n, torch.Generator().manual_seed(seed))
    return decoded_points(served, z.cpu(), loaded.decode(z))


async def _drawn(
    served: ServedModel, n: int, seed: int, temperature: float, source: Literal["prior", "aggregate"]
) -> DecodedPoints:
    if source == "aggregate":
        return await run_in_threadpool(_aggregate_samples, served, n, seed)
    return decoded_points(served, *served.loaded.sample(n, seed=seed, temperature=temperature))


@router.get("/{model_id}/samples")
async def samples(
    served: ModelDep,
    lab: LabDep,
    n: Annotated[int, Query(ge=1, le=MAX_PRIOR_SAMPLES)] = 16,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    temperature: Annotated[float, Query(gt=0, le=5, description="of the prior's draws")] = 1.0,
    source: Annotated[
        Literal["prior", "aggregate"],
        Query(
            description="prior: z ~ N(0, temperature^2 I); aggregate: z ~ q(z|x) of a random training image"
        ),
    ] = "prior",
) -> Samples:
    """Draws from the prior N(0, temperature^2 I), or from the aggregate posterior q(z) (the training
    images' posteriors, an image picked at random for each draw), decoded: what the model generates, and
    what it would generate without the prior's holes; with the source's FID once the model is evaluated."""
    drawn = await _drawn(served, n, seed, temperature, source)
    evaluation = await lab.evaluated(served)
    fid = None
    if evaluation is not None and (source == "aggregate" or temperature == 1.0):
        fid = evaluation.fid_aggregate if source == "aggregate" else evaluation.fid_prior
    return Samples(**drawn.model_dump(), frechet_distance=fid)
