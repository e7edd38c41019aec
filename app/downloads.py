"""Files offered for download: a strip of decoded images as one picture (side by side as a PNG, or one
after another as an animated GIF that plays the path forth and back; Pillow writes both), and the response
that makes a browser save a body under a file name."""

from __future__ import annotations

import io

import numpy as np
import torch
from fastapi import Response
from PIL import Image

SCALE = 4  # a 28-pixel image becomes 112 pixels: large enough to see, nearest-neighbour so still crisp
GAP = 2  # pixels between images of the PNG strip
FRAME_MS = 120  # per frame of the GIF


def _pictures(batch: torch.Tensor, scale: int) -> list[Image.Image]:
    """[B, C, H, W] intensities in [0, 1] (C = 1 or 3) -> one Pillow image each, scaled up."""
    pixels = np.clip(np.rint(batch.detach().cpu().numpy() * 255), 0, 255).astype(np.uint8)
    pictures = []
    for image in pixels:
        picture = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        size = (picture.width * scale, picture.height * scale)
        pictures.append(picture.resize(size, Image.Resampling.NEAREST))
    return pictures


def strip_png(batch: torch.Tensor, scale: int = SCALE) -> bytes:
    """The images side by side on white, GAP pixels apart, as PNG bytes."""
    pictures = _pictures(batch, scale)
    width, height = pictures[0].size
    strip = Image.new(pictures[0].mode, (len(pictures) * (width + GAP) - GAP, height), "white")
    for position, picture in enumerate(pictures):
        strip.paste(picture, (position * (width + GAP), 0))
    out = io.BytesIO()
    strip.save(out, format="PNG", optimize=True)
    return out.getvalue()


def strip_gif(batch: torch.Tensor, scale: int = SCALE, frame_ms: int = FRAME_MS) -> bytes:
    """The images as an animated GIF looping forever: forth along the strip, then back."""
    pictures = _pictures(batch, scale)
    frames = pictures + pictures[-2:0:-1]  # back without repeating either end
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return out.getvalue()


def attachment(content: bytes | str, media_type: str, filename: str) -> Response:
    """A response the browser saves as `filename` rather than shows."""
    disposition = f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
