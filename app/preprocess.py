"""Turn a photo, scan or canvas drawing into a digit the way MNIST's own digits were made (LeCun et al.):
light ink on black, the ink's box scaled to 20 px on its longest side, centre of mass at the centre."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from app.images import ImageInputError
from model.data import IMAGE_SIZE

DIGIT_BOX = 20  # MNIST's size-normalised box inside the 28x28 field
INK_THRESHOLD = 0.1  # intensity above the paper's level that counts as ink
CENTRE = 14.0  # where MNIST's centres of mass sit, in pixel-index coordinates (measured on the test set)


def _light_ink_on_dark(gray: np.ndarray) -> np.ndarray:
    """Read the paper's colour from the border, invert dark-on-light, and stretch paper..ink to 0..1."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    if paper > 0.5:
        gray, paper = 1.0 - gray, 1.0 - paper
    ink = float(gray.max())
    if ink - paper < INK_THRESHOLD:
        raise ImageInputError(422, "no ink found: the image is blank (one colour throughout)")
    return np.clip((gray - paper) / (ink - paper), 0.0, 1.0)


def _crop_to_ink(pixels: np.ndarray) -> np.ndarray:
    mask = pixels > INK_THRESHOLD
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _scale_longest_side(pixels: np.ndarray, side: int) -> np.ndarray:
    height, width = pixels.shape
    scale = side / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    source = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None, None]
    resized = F.interpolate(source, size=size, mode="bilinear", antialias=True, align_corners=False)
    patch: np.ndarray = np.clip(resized[0, 0].numpy(), 0.0, 1.0)
    return patch


def _place_by_centre_of_mass(patch: np.ndarray) -> torch.Tensor:
    height, width = patch.shape
    mass = float(patch.sum())
    com_y = float(patch.sum(axis=1) @ np.arange(height)) / mass
    com_x = float(patch.sum(axis=0) @ np.arange(width)) / mass
    top = min(max(round(CENTRE - com_y), 0), IMAGE_SIZE - height)
    left = min(max(round(CENTRE - com_x), 0), IMAGE_SIZE - width)
    field = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    field[top : top + height, left : left + width] = patch
    return torch.from_numpy(field)


def mnist_like(gray: np.ndarray) -> torch.Tensor:
    """[H, W] grayscale in [0, 1], any polarity -> [28, 28] MNIST-style digit in [0, 1].

    numpy rather than torch: on images this small, torch's per-operation overhead is most of the cost."""
    pixels = _light_ink_on_dark(gray)
    patch = _scale_longest_side(_crop_to_ink(pixels), DIGIT_BOX)
    if patch.sum() <= 0:
        raise ImageInputError(422, "no ink found: the marks vanish when scaled to 20 px")
    return _place_by_centre_of_mass(patch)
