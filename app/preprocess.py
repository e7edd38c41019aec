"""Turn a photo, scan or canvas drawing into a digit the way MNIST's own digits were made (LeCun et al.):
light ink on black, the ink's box scaled to 20 px on its longest side, centre of mass at the centre."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from app.images import ImageInputError
from model.data import IMAGE_SIZE

DIGIT_BOX = 20  # MNIST's size-normalised box inside the 28x28 field
INK_THRESHOLD = 0.1  # intensity above the paper's level that counts as ink
CENTRE = 14.0  # where MNIST's centres of mass sit, in pixel-index coordinates (measured on the test set)


def _light_ink_on_dark(gray: torch.Tensor) -> torch.Tensor:
    """Read the paper's colour from the border, invert dark-on-light, and stretch paper..ink to 0..1."""
    border = torch.cat([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = border.median()
    if paper > 0.5:
        gray, paper = 1.0 - gray, 1.0 - paper
    ink = gray.max()
    if ink - paper < INK_THRESHOLD:
        raise ImageInputError(422, "no ink found: the image is blank (one colour throughout)")
    return ((gray - paper) / (ink - paper)).clamp(0, 1)


def _crop_to_ink(pixels: torch.Tensor) -> torch.Tensor:
    mask = pixels > INK_THRESHOLD
    rows = torch.nonzero(mask.any(dim=1)).flatten()
    cols = torch.nonzero(mask.any(dim=0)).flatten()
    return pixels[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1]


def _scale_longest_side(pixels: torch.Tensor, side: int) -> torch.Tensor:
    height, width = pixels.shape
    scale = side / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    resized = F.interpolate(
        pixels[None, None], size=size, mode="bilinear", antialias=True, align_corners=False
    )
    return resized[0, 0].clamp(0, 1)


def _place_by_centre_of_mass(patch: torch.Tensor) -> torch.Tensor:
    height, width = patch.shape
    mass = patch.sum()
    com_y = float((patch.sum(dim=1) * torch.arange(height)).sum() / mass)
    com_x = float((patch.sum(dim=0) * torch.arange(width)).sum() / mass)
    top = min(max(round(CENTRE - com_y), 0), IMAGE_SIZE - height)
    left = min(max(round(CENTRE - com_x), 0), IMAGE_SIZE - width)
    field = torch.zeros(IMAGE_SIZE, IMAGE_SIZE)
    field[top : top + height, left : left + width] = patch
    return field


def mnist_like(gray: torch.Tensor) -> torch.Tensor:
    """[H, W] grayscale in [0, 1], any polarity -> [28, 28] MNIST-style digit in [0, 1]."""
    pixels = _light_ink_on_dark(gray)
    patch = _scale_longest_side(_crop_to_ink(pixels), DIGIT_BOX)
    if patch.sum() <= 0:
        raise ImageInputError(422, "no ink found: the marks vanish when scaled to 20 px")
    return _place_by_centre_of_mass(patch)
