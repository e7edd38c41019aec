"""Interpolation between two ends, each a test digit, a latent, a map point or an image."""

from __future__ import annotations

import torch
from fastapi import APIRouter

from app.deps import ModelDep
from app.images import png_data_urls
from app.latents import latent_of
from app.schemas import ERROR_RESPONSES, DecodedPoints, InterpolateRequest
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["interpolate"], responses=ERROR_RESPONSES)


def decoded_points(served: ServedModel, z: torch.Tensor, images: torch.Tensor) -> DecodedPoints:
    """Latents [B, D] with their map points and decoded images [B, C, H, W]."""
    return DecodedPoints(
        z=z.tolist(), map_xy=served.latent_map.plane.project(z).tolist(), images=png_data_urls(images)
    )


@router.post("/{model_id}/interpolate")
async def interpolate(served: ModelDep, request: InterpolateRequest) -> DecodedPoints:
    """Decode `steps` points along each leg from start, through each of `via`, to end, every end included
    once (linear or spherical): the tutorial's Fig. 5 is start @, via [9], end a."""
    ends = [
        latent_of(served, request.start, "start"),
        *(latent_of(served, end, f"via[{i}]") for i, end in enumerate(request.via)),
        latent_of(served, request.end, "end"),
    ]
    return decoded_points(
        served, *served.loaded.interpolate(torch.stack(ends), request.steps, request.method)
    )
