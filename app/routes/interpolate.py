"""Interpolation between two ends, each a test digit, a latent, a map point or an image."""

from __future__ import annotations

import torch
from fastapi import APIRouter, HTTPException

from app.deps import ModelDep
from app.images import png_data_urls
from app.params import check_latent, check_point
from app.routes.encode import prepared_data_url
from app.schemas import ERROR_RESPONSES, DecodedPoints, Endpoint, InterpolateRequest
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["interpolate"], responses=ERROR_RESPONSES)


def _latent(served: ServedModel, end: Endpoint, where: str) -> torch.Tensor:
    latent_map = served.latent_map
    if end.index is not None:
        if not 0 <= end.index < len(latent_map):
            raise HTTPException(404, f"{where}: no test image {end.index} (0..{len(latent_map) - 1})")
        return latent_map.mu[end.index]
    if end.z is not None:
        return torch.tensor(check_latent(latent_map, end.z, f"{where}.z"))
    if end.point is not None:
        if len(end.point) != 2:
            raise HTTPException(422, f"{where}.point: give [x, y], got {len(end.point)} values")
        return latent_map.latents_of([check_point(latent_map, end.point, f"{where}.point")])[0]
    if end.label is not None:
        names = served.dataset.info.class_names
        if end.label not in names:
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise HTTPException(
                422, f"{where}.label: {end.label!r} is not a class of this model's data ({shown})"
            )
        try:
            return latent_map.mu[latent_map.typical(names.index(end.label))]
        except ValueError as error:
            raise HTTPException(404, f"{where}.label: {error}") from error
    image = prepared_data_url(end.image or "", f"{where}.image", served)
    return served.loaded.encode(image[None])[0][0]


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
        _latent(served, request.start, "start"),
        *(_latent(served, end, f"via[{i}]") for i, end in enumerate(request.via)),
        _latent(served, request.end, "end"),
    ]
    return decoded_points(
        served, *served.loaded.interpolate(torch.stack(ends), request.steps, request.method)
    )
