"""Images that come with a request (an upload, a drawing, a data URL in a body), prepared as the model's
data set's images were: decoded and checked (app.images), then framed or resized (app.preprocess)."""

from __future__ import annotations

import torch
from fastapi import HTTPException

from app.images import ImageInputError, decode_data_url, open_image
from app.preprocess import prepare
from app.served_model import ServedModel


def prepared_image(data: bytes, served: ServedModel) -> torch.Tensor:
    """PNG or JPEG bytes -> the [C, H, W] image the model sees; ImageInputError says what was wrong."""
    return prepare(open_image(data), served.dataset.info)


def prepared_data_url(url: str, where: str, served: ServedModel) -> torch.Tensor:
    """A data URL's image -> the [C, H, W] image the model sees, or the 4xx saying what was wrong."""
    try:
        return prepared_image(decode_data_url(url), served)
    except ImageInputError as error:
        raise HTTPException(error.status, f"{where}: {error.detail}") from error
