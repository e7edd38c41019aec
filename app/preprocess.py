"""Make an uploaded or drawn image look like the model's data set's images, as its preprocessing says:
handwriting framed as MNIST's digits were, an object fitted as Fashion-MNIST's were, a photo resized."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from app.images import ImageInputError, to_grayscale, to_rgb
from model.data import DatasetInfo
from model.framing import INK_THRESHOLD, NoInkError, fit_object, fit_square, frame_ink


def _light_ink_on_dark(gray: np.ndarray) -> np.ndarray:
    """Read the paper's colour from the border, invert dark-on-light, and stretch paper..ink to 0..1."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    if paper > 0.5:
        gray, paper = 1.0 - gray, 1.0 - paper
    ink = float(gray.max())
    if ink - paper < INK_THRESHOLD:  # paper and ink alike: a blank image
        raise ImageInputError(422, "no ink found: the image is blank (one colour throughout)")
    return np.clip((gray - paper) / (ink - paper), 0.0, 1.0)


def _resized(image: Image.Image, info: DatasetInfo) -> np.ndarray:
    """The whole image made square as a folder's images were (fit_square), in the data set's channels."""
    channels, _, side = info.image_shape
    rgb = Image.fromarray(np.round(to_rgb(image) * 255).astype(np.uint8))
    cropped = fit_square(rgb, side)
    if channels == 1:
        cropped = cropped.convert("L")
    pixels = np.asarray(cropped, dtype=np.float32) / 255.0
    chosen: np.ndarray = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return chosen


def prepare(image: Image.Image, info: DatasetInfo) -> torch.Tensor:
    """A decoded upload -> [C, H, W] in [0, 1], prepared as `info`'s images were; ImageInputError (422)
    when there is nothing to see."""
    _, height, width = info.image_shape
    if info.preprocessing == "resize":
        return torch.from_numpy(np.ascontiguousarray(_resized(image, info)))
    frame = frame_ink if info.preprocessing == "ink" else fit_object
    try:
        field = frame(_light_ink_on_dark(to_grayscale(image)), min(height, width))
    except NoInkError as error:
        raise ImageInputError(422, f"{error}") from error
    return torch.from_numpy(field)[None]
