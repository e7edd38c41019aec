"""Encoding an uploaded or drawn image: prepared as the model's data set's images were, then placed on
the model's map."""

from __future__ import annotations

from typing import Annotated

import torch
from fastapi import APIRouter, File, HTTPException, UploadFile

from app.deps import ModelDep
from app.images import ImageInputError, decode_data_url, open_image, png_data_urls
from app.preprocess import prepare
from app.schemas import ERROR_RESPONSES, Encoding, Neighbor
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["encode"], responses=ERROR_RESPONSES)


def prepared_image(data: bytes, served: ServedModel) -> torch.Tensor:
    """PNG or JPEG bytes -> the [C, H, W] image the model sees; ImageInputError says what was wrong."""
    return prepare(open_image(data), served.dataset.info)


def prepared_data_url(url: str, where: str, served: ServedModel) -> torch.Tensor:
    """A data URL's image -> the [C, H, W] image the model sees, or the 4xx saying what was wrong."""
    try:
        return prepared_image(decode_data_url(url), served)
    except ImageInputError as error:
        raise HTTPException(error.status, f"{where}: {error.detail}") from error


@router.post("/{model_id}/encode")
async def encode(
    served: ModelDep,
    file: Annotated[UploadFile, File(description="a PNG or JPEG (checked by content), e.g. a canvas's blob")],
) -> Encoding:
    """Prepare an uploaded or drawn image as the model's data set was made (handwriting framed as MNIST's
    digits, objects fitted, photos resized), then encode it: q(z|x), its place and 2-sigma ellipse on
    the map, its reconstruction and its 8 nearest test images in latent space."""
    try:
        image = prepared_image(await file.read(), served)
    except ImageInputError as error:
        raise HTTPException(error.status, error.detail) from error
    placed = await served.encoder(image)
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
    )
