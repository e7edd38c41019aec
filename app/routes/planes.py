"""/api/models/{id}/planes/{method}: UMAP and t-SNE planes of a model's map, computed in the background
(start, progress), latents placed on one by the method's own transform, map points lifted from one."""

from __future__ import annotations

from typing import Annotated

import torch
from fastapi import APIRouter, Query

from app.deps import DensityMapsDep, ModelDep, PlanesDep
from app.params import invalid
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.planes import LiftedPoints, PlacedPoints, PlaneLatents, PlanePoints, PlaneProgress
from model.data import MapSplit
from model.planes import NonlinearMethod, lift_description

router = APIRouter(prefix="/api/models", tags=["planes"], responses=ERROR_RESPONSES)
SplitQuery = Annotated[MapSplit, Query(description="whose encodings the plane is of: test, train or all")]


@router.get("/{model_id}/planes/{method}")
async def plane_progress(
    served: ModelDep, planes: PlanesDep, method: NonlinearMethod, split: SplitQuery = "test"
) -> PlaneProgress:
    """Whether the plane is computed, computing (its stage and the fraction done) or failed."""
    return PlaneProgress.of(await planes.status(served, split, method), method=method, split=split)


@router.post("/{model_id}/planes/{method}", status_code=202)
async def start_plane(
    served: ModelDep,
    planes: PlanesDep,
    densities: DensityMapsDep,
    method: NonlinearMethod,
    split: SplitQuery = "test",
) -> PlaneProgress:
    """Compute the plane in the background (once: a plane computed or computing is left as it is). UMAP of
    70,000 16-D encodings takes about a minute on two cores; it is cached beside the model. A map drawn
    as density has its PCA plane only."""
    densities.check_plane(served, split, method)
    return PlaneProgress.of(await planes.start(served, split, method), method=method, split=split)


@router.post("/{model_id}/planes/{method}/place")
async def place_on_plane(
    served: ModelDep,
    planes: PlanesDep,
    method: NonlinearMethod,
    request: PlaneLatents,
    split: SplitQuery = "test",
) -> PlacedPoints:
    """Latents (an upload's encoding, an interpolation path, samples) placed on the plane by UMAP's or
    openTSNE's own transform of new points."""
    dim = served.loaded.latent_dim
    for i, z in enumerate(request.z):
        if len(z) != dim:
            raise invalid(f"z[{i}]", f"has {len(z)} values; this model's latent_dim is {dim}")
    xy = await planes.place(served, split, method, torch.tensor(request.z))
    return PlacedPoints(map_xy=xy.tolist())


@router.post("/{model_id}/planes/{method}/lift")
async def lift_from_plane(
    served: ModelDep,
    planes: PlanesDep,
    method: NonlinearMethod,
    request: PlanePoints,
    split: SplitQuery = "test",
) -> LiftedPoints:
    """Map points of the plane -> estimated latents (a nonlinear plane has no inverse; see `how`)."""
    plane = await planes.plane(served, split, method)
    for i, point in enumerate(request.points):
        if len(point) != 2:
            raise invalid(f"points[{i}]", f"give [x, y], got {len(point)} values")
    z, nearest = plane.lift(torch.tensor(request.points))
    return LiftedPoints(z=z.tolist(), nearest=nearest.tolist(), how=lift_description(method))
