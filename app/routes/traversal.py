"""/api/models/{id}/traversal: what each latent dimension does, one decoded row per dimension, ordered by
KL, dead dimensions marked."""

from __future__ import annotations

import torch
from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from app.deps import ModelDep
from app.images import png_data_urls
from app.latents import dimension_of, latent_of
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.latents import LatentTraversal, TraversalRequest, TraversedDimension
from app.served_model import ServedModel
from model.traversal import traverse

router = APIRouter(prefix="/api/models", tags=["traversal"], responses=ERROR_RESPONSES)


def _traversal(served: ServedModel, centre: torch.Tensor, request: TraversalRequest) -> LatentTraversal:
    use = served.dimension_use
    grid = traverse(
        centre, use, rows=request.rows, dims=request.dims, steps=request.steps, extent=request.extent
    )
    images = png_data_urls(served.loaded.decode(grid.latents))
    steps = request.steps
    return LatentTraversal(
        centre=centre.tolist(),
        offsets=grid.offsets.tolist(),
        latent_dim=served.loaded.latent_dim,
        active_units=int(use.active.sum()),
        rows=[
            TraversedDimension(
                **dimension_of(served, dim).model_dump(), images=images[row * steps : (row + 1) * steps]
            )
            for row, dim in enumerate(grid.dims)
        ],
    )


@router.post("/{model_id}/traversal")
async def traversal(served: ModelDep, request: TraversalRequest) -> LatentTraversal:
    """Decode a traversal grid: for each latent dimension (highest mean KL over the test split first),
    `steps` points from centre - extent to centre + extent along that dimension, the others held at the
    centre (or the `dims` given, in their order). Dimensions the encoder does not use (Cov_x(E_q[z_d]) <=
    0.01) are marked inactive."""
    latent_dim = served.loaded.latent_dim
    for dim in request.dims or []:
        if not 0 <= dim < latent_dim:
            raise HTTPException(422, f"dims: dimension {dim} is out of range (0..{latent_dim - 1})")
    centre = torch.zeros(latent_dim)
    if request.centre is not None:
        centre = latent_of(served, request.centre, "centre")
    return await run_in_threadpool(_traversal, served, centre, request)
