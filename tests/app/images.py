"""Build the images real people send: PNG/JPEG bytes, data URLs, re-drawn digits."""

import base64
import io

import numpy as np
import torch
from PIL import Image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def digit_image(images: torch.Tensor, index: int) -> Image.Image:
    """A test digit exactly as MNIST stores it (images: [N, 1, 28, 28]): light on black, 28x28."""
    return Image.fromarray(images[index, 0].numpy())


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


def redrawn_on_paper(
    images: torch.Tensor, index: int, scale: int, size: tuple[int, int], at: tuple[int, int]
) -> Image.Image:
    """The digit's ink, scaled up, dark on white paper, pasted off-centre on a larger canvas."""
    digit = images[index, 0].numpy()
    rows, cols = np.nonzero(digit)
    ink = Image.fromarray(255 - digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])
    ink = ink.resize((ink.width * scale, ink.height * scale), Image.Resampling.BICUBIC)
    canvas = Image.new("L", size, 255)
    canvas.paste(ink, at)
    return canvas


def pixels_of(image: str | bytes) -> torch.Tensor:
    """A PNG (bytes or data URL) as gray pixels in [0, 1]: [H, W]."""
    if isinstance(image, str):
        assert image.startswith("data:image/png;base64,")
        image = base64.b64decode(image.split(",", 1)[1])
    gray = np.asarray(Image.open(io.BytesIO(image)).convert("L"), dtype=np.float32)
    return torch.from_numpy(gray) / 255
