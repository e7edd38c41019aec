"""/api/models/{id}/prior-holes: the aggregate posterior q(z) against the prior p(z) over the map, and the
holes where the prior has mass and no image encodes."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import torch
from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from app.deps import ModelDep
from app.params import Range, check_within
from app.schemas.aggregate_posterior import PriorHole, PriorHoles
from app.schemas.errors import ERROR_RESPONSES
from app.served_model import ServedModel
from model.aggregate_posterior import (
    HOLE_RATIO,
    PRIOR_REGION,
    FullSpaceHoles,
    find_holes,
    holes_in_full_space,
    log_densities,
    region_radius,
)
from model.aggregate_posterior import PriorHoles as FoundHoles
from model.latent_map import LatentMap, cell_centres, grid_points
from model.planes import PlaneMethod

router = APIRouter(prefix="/api/models", tags=["lab"], responses=ERROR_RESPONSES)
MAX_GRID = 96
MAX_IMAGES = 10_000  # the test images whose posteriors make up q(z): ~0.5 s for a 48 x 48 grid on 2 cores
LOG_RATIO_LIMIT = 30.0  # beyond e^+-30 the ratio is shown as that: a colour scale cannot tell them apart
PRIOR_REACH = 3.0  # the default window: the prior's +-3 standard deviations around its centre on the map


def _posteriors(latent_map: LatentMap) -> tuple[torch.Tensor, torch.Tensor]:
    return latent_map.mu[:MAX_IMAGES], latent_map.sigma[:MAX_IMAGES]


@lru_cache(maxsize=32)  # by the map (a reloaded or retrained model has another): holes ignore the zoom
def _holes(latent_map: LatentMap) -> tuple[FoundHoles, FullSpaceHoles]:
    posteriors = _posteriors(latent_map)
    return find_holes(*posteriors, latent_map.plane), holes_in_full_space(*posteriors)


def _limited(value: float) -> float:
    return round(max(-LOG_RATIO_LIMIT, min(LOG_RATIO_LIMIT, value)), 3)


def _prior_centre(served: ServedModel) -> list[float]:
    return served.latent_map.plane.project(torch.zeros(served.loaded.latent_dim)).tolist()


def _prior_holes(served: ServedModel, x: torch.Tensor, y: torch.Tensor) -> PriorHoles:
    latent_map = served.latent_map
    log_q, log_p = log_densities(grid_points(x, y), *_posteriors(latent_map), latent_map.plane)
    ratio = (log_q - log_p).clamp(-LOG_RATIO_LIMIT, LOG_RATIO_LIMIT).reshape(len(y), len(x))
    found, in_full_space = _holes(latent_map)
    return PriorHoles(
        model_id=served.model_id,
        x=x.tolist(),
        y=y.tolist(),
        log_ratio=ratio.round(decimals=3).tolist(),
        log_ratio_limit=LOG_RATIO_LIMIT,
        holes=[
            PriorHole(x=hole.x, y=hole.y, log_ratio=_limited(hole.log_ratio), prior_mass=hole.prior_mass)
            for hole in found.holes
        ],
        hole_mass=found.hole_mass,
        full_space_hole_mass=in_full_space.prior_mass,
        full_space_hole_mass_se=in_full_space.standard_error,
        latent_dim=latent_map.latent_dim,
        hole_ratio=HOLE_RATIO,
        prior_region=PRIOR_REGION,
        prior_centre=_prior_centre(served),
        prior_radius=region_radius(),
        images=min(len(latent_map), MAX_IMAGES),
        exact=latent_map.plane.is_identity,
    )


@router.get("/{model_id}/prior-holes")
async def prior_holes(
    served: ModelDep,
    n: Annotated[int, Query(ge=2, le=MAX_GRID)] = 48,
    x_range: Annotated[
        Range | None, Query(description="'low,high' (default: the prior's +-3 standard deviations)")
    ] = None,
    y_range: Annotated[Range | None, Query(description="'low,high'")] = None,
    plane: Annotated[PlaneMethod, Query(description="the plane the map is drawn on")] = "pca",
) -> PriorHoles:
    """log q(z) / p(z) over an n x n grid of the map, q(z) the aggregate posterior of the test images (the
    mean of their posteriors): exact on a 2-D model, and the ratio of the two projections onto the PCA plane
    above that. With the holes: regions of the prior's 95% disc where q(z) / p(z) < 0.1, so that prior
    samples landing there decode to what no image encodes to."""
    if plane != "pca":
        raise HTTPException(
            409,
            f"prior holes are drawn on the PCA plane: on a {plane} plane the prior has no density "
            "(its coordinates are not a projection of z)",
        )
    limit = served.latent_map.coordinate_limit
    centre = _prior_centre(served)
    axes = []
    for axis, given in enumerate((x_range, y_range)):
        low_high = given or [centre[axis] - PRIOR_REACH, centre[axis] + PRIOR_REACH]
        check_within(low_high, "xy"[axis] + "_range", limit)
        axes.append(cell_centres(low_high[0], low_high[1], n))
    return await run_in_threadpool(_prior_holes, served, *axes)
