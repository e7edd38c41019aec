"""Decoding: the image at one map point or latent (the hover path, batched), or at many points at once."""

from __future__ import annotations

from typing import Annotated

import torch
from fastapi import APIRouter, Query, Response
from pydantic import FiniteFloat

from app.deps import ModelDep, ShownPlaneDep
from app.images import png_data_urls
from app.params import Numbers, check_latent, check_point, check_within, invalid
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.latents import DecodeRequest, Images

router = APIRouter(prefix="/api/models", tags=["decode"], responses=ERROR_RESPONSES)
PNG = "image/png"


@router.get("/{model_id}/decode.png", response_class=Response, responses={200: {"content": {PNG: {}}}})
async def decode_png(
    served: ModelDep,
    shown: ShownPlaneDep,
    x: Annotated[FiniteFloat | None, Query(description="map x (give y too)")] = None,
    y: Annotated[FiniteFloat | None, Query(description="map y (give x too)")] = None,
    z: Annotated[
        Numbers | None,
        Query(description="instead of x and y: the full latent vector, z=0.5,-1.25 (or z repeated)"),
    ] = None,
) -> Response:
    """The decoder's mean image at map point (x, y), or at the full latent vector z. One request per mouse
    move from every open page: requests that arrive together are decoded in one batch. On a UMAP or t-SNE
    plane the latent is an estimate from the encodings nearest (x, y) (see /planes/{method}/lift)."""
    if z is not None:
        point = check_latent(served.latent_map, z, "z")  # never a map point, even with two values
    elif x is not None and y is not None and shown.nonlinear is not None:
        check_within([x, y], "x, y", shown.limit)
        point = shown.lift(torch.tensor([[x, y]]))[0].tolist()
    elif x is not None and y is not None:
        point = check_point(served.latent_map, [x, y], "x, y")
    else:
        raise invalid("query", "give x and y (map coordinates) or z (a comma-separated latent vector)")
    png = await served.png_decoder(point)
    return Response(png, media_type=PNG, headers={"Cache-Control": "public, max-age=3600"})


@router.post("/{model_id}/decode")
async def decode_points(served: ModelDep, request: DecodeRequest) -> Images:
    """Decode up to 1,024 points (map points or full latents) in one batch."""
    latent_map = served.latent_map
    points = [check_point(latent_map, point, f"points[{i}]") for i, point in enumerate(request.points)]
    return Images(images=png_data_urls(served.loaded.decode(latent_map.latents_of(points))))
