"""Encoding an uploaded or drawn image: prepared as the model's data set's images were, then placed on
the model's map."""

from __future__ import annotations

from typing import Annotated

import torch
from fastapi import APIRouter, File, HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool

from app.deps import ModelDep, PointMetricsDep
from app.images import ImageInputError, png_data_urls
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.latents import Encoding, Neighbor, Typicality
from app.uploads import prepared_image
from model.point_metrics import TYPICALITY_CAVEAT

router = APIRouter(prefix="/api/models", tags=["encode"], responses=ERROR_RESPONSES)


@router.post("/{model_id}/encode")
async def encode(
    served: ModelDep,
    metrics: PointMetricsDep,
    file: Annotated[UploadFile, File(description="a PNG or JPEG (checked by content), e.g. a canvas's blob")],
) -> Encoding:
    """Prepare an uploaded or drawn image as the model's data set was made (handwriting framed as MNIST's
    digits, objects fitted, photos resized), then encode it: q(z|x), its place and 2-sigma ellipse on
    the map, its reconstruction and its 8 nearest test images in latent space; once the test images'
    per-point metrics are computed, its log p(x) among theirs."""
    try:
        image = prepared_image(await file.read(), served)
    except ImageInputError as error:
        raise HTTPException(error.status, error.detail) from error
    placed = await served.encoder(image)
    typical = await run_in_threadpool(metrics.typicality, served, image)
    input_url, reconstruction_url = png_data_urls(torch.stack([image, placed.reconstruction[0]]))
    return Encoding(
        input=input_url,
        mu=placed.mu[0].tolist(),
        sigma=placed.sigma[0].tolist(),
        map_xy=placed.xy[0].tolist(),
        map_sigma=placed.sigma_xy[0].tolist(),
        reconstruction=reconstruction_url,
        neighbors=[
            Neighbor(index=index, label=label, distance=distance)
            for index, label, distance in zip(
                placed.neighbors[0].tolist(),
                placed.neighbor_labels[0].tolist(),
                placed.distances[0].tolist(),
                strict=True,
            )
        ],
        typicality=None
        if typical is None
        else Typicality(log_px=typical[0], percentile=typical[1], caveat=TYPICALITY_CAVEAT),
    )
