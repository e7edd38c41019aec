"""Framing light-on-dark marks the way MNIST's digits were framed (LeCun et al.): the ink's box scaled to
20 px on its longest side, its centre of mass at the centre of the 28 px field. Uploads of handwriting
are framed this way, and so are the glyphs the characters data set renders, so both look like MNIST.

Photographs are not framed but fitted: fit_square makes a folder's images (and an upload to a model of
them) square without squashing.

numpy rather than torch: on images this small, torch's per-operation overhead is most of the cost."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

INK_THRESHOLD = 0.1  # intensity that counts as ink
BOX_FRACTION = 20 / 28  # MNIST's size-normalised box inside its field
# Where MNIST's centres of mass sit, in pixel-index coordinates, as a fraction of the side (14 of 28,
# measured on the test set).
CENTRE_FRACTION = 0.5


class NoInkError(ValueError):
    """The image has no marks to frame."""


def crop_to_ink(pixels: np.ndarray) -> np.ndarray:
    """[H, W] light on dark -> the smallest box holding every pixel above INK_THRESHOLD."""
    mask = pixels > INK_THRESHOLD
    if not mask.any():
        raise NoInkError("no ink found: nothing is brighter than the background")
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def scale_longest_side(pixels: np.ndarray, side: int) -> np.ndarray:
    """[H, W] -> the same marks with the longer side `side` px, antialiased."""
    height, width = pixels.shape
    scale = side / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    source = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None, None]
    resized = F.interpolate(source, size=size, mode="bilinear", antialias=True, align_corners=False)
    patch: np.ndarray = np.clip(resized[0, 0].numpy(), 0.0, 1.0)
    return patch


def place_by_centre_of_mass(patch: np.ndarray, size: int) -> np.ndarray:
    """Put `patch` into a black [size, size] field with its centre of mass at the centre."""
    height, width = patch.shape
    mass = float(patch.sum())
    com_y = float(patch.sum(axis=1) @ np.arange(height)) / mass
    com_x = float(patch.sum(axis=0) @ np.arange(width)) / mass
    centre = CENTRE_FRACTION * size
    top = min(max(round(centre - com_y), 0), size - height)
    left = min(max(round(centre - com_x), 0), size - width)
    field = np.zeros((size, size), dtype=np.float32)
    field[top : top + height, left : left + width] = patch
    return field


def frame_ink(pixels: np.ndarray, size: int = 28) -> np.ndarray:
    """[H, W] light marks on black in [0, 1] -> [size, size] framed as MNIST's digits; NoInkError if blank."""
    patch = scale_longest_side(crop_to_ink(pixels), max(1, round(BOX_FRACTION * size)))
    if patch.sum() <= 0:
        raise NoInkError("no ink found: the marks vanish when scaled down")
    return place_by_centre_of_mass(patch, size)


def fit_object(pixels: np.ndarray, size: int = 28) -> np.ndarray:
    """[H, W] a light object on black -> [size, size], its box's longer side filling the field, centred:
    how Fashion-MNIST's product photos were made (trimmed, resized, centred)."""
    patch = scale_longest_side(crop_to_ink(pixels), size)
    height, width = patch.shape
    field = np.zeros((size, size), dtype=np.float32)
    top, left = (size - height) // 2, (size - width) // 2
    field[top : top + height, left : left + width] = patch
    return field


def fit_square(image: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to `size`, then crop the centre square: nothing is squashed."""
    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    resized = image.resize((width, height), Image.Resampling.LANCZOS)
    left, top = (width - size) // 2, (height - size) // 2
    return resized.crop((left, top, left + size, top + size))
