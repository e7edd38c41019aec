"""Interpolation between two ends, each a data set image, a latent, a map point or an image."""

from __future__ import annotations

import torch
from fastapi import APIRouter, Response

from app.deps import ModelDep
from app.downloads import attachment, strip_gif, strip_png
from app.latents import latent_of
from app.responses import decoded_points
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.latents import DecodedPoints, InterpolateRequest
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["interpolate"], responses=ERROR_RESPONSES)


def _path(served: ServedModel, request: InterpolateRequest) -> tuple[torch.Tensor, torch.Tensor]:
    """The path's latents [B, D] and decoded images [B, C, H, W]."""
    ends = [
        latent_of(served, request.start, "start"),
        *(latent_of(served, end, f"via[{i}]") for i, end in enumerate(request.via)),
        latent_of(served, request.end, "end"),
    ]
    return served.loaded.interpolate(torch.stack(ends), request.steps, request.method)


@router.post("/{model_id}/interpolate")
async def interpolate(served: ModelDep, request: InterpolateRequest) -> DecodedPoints:
    """Decode `steps` points along each leg from start, through each of `via`, to end, every end included
    once (linear or spherical): the tutorial's Fig. 5 is start @, via [9], end a."""
    return decoded_points(served, *_path(served, request))


@router.post(
    "/{model_id}/interpolate.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
async def interpolate_png(served: ModelDep, request: InterpolateRequest) -> Response:
    """The same strip as one PNG to download: the images side by side, each scaled up 4 times."""
    _, images = _path(served, request)
    return attachment(strip_png(images), "image/png", f"{served.model_id}-interpolation.png")


@router.post(
    "/{model_id}/interpolate.gif", response_class=Response, responses={200: {"content": {"image/gif": {}}}}
)
async def interpolate_gif(served: ModelDep, request: InterpolateRequest) -> Response:
    """The same strip as an animated GIF to download: forth along the path and back, looping."""
    _, images = _path(served, request)
    return attachment(strip_gif(images), "image/gif", f"{served.model_id}-interpolation.gif")
