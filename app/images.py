"""Image bytes in and out: sniff and bound uploads before decoding, read data URLs, write PNGs."""

from __future__ import annotations

import base64
import binascii
import io
import struct
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from app.limits import MAX_BODY_BYTES

MAX_IMAGE_SIDE = 4096  # larger images are refused from their header, before any pixel is decoded
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class ImageInputError(Exception):
    """A rejected image: `status` is the HTTP status that says why (413, 415 or 422)."""

    status: int
    detail: str

    def __str__(self) -> str:
        return self.detail


def sniff_format(data: bytes) -> str:
    """The format, "PNG" or "JPEG", from the content itself: names and content types are not trusted."""
    if data.startswith(PNG_MAGIC):
        return "PNG"
    if data.startswith(JPEG_MAGIC):
        return "JPEG"
    if not data:
        raise ImageInputError(422, "the image is empty (0 bytes)")
    raise ImageInputError(415, "unsupported image type: send a PNG or JPEG (checked by content, not name)")


def open_image(data: bytes) -> Image.Image:
    """Decode PNG or JPEG bytes into a loaded PIL image, refusing oversized ones from the header alone."""
    if len(data) > MAX_BODY_BYTES:
        raise ImageInputError(413, f"image is {len(data)} bytes; the limit is {MAX_BODY_BYTES} bytes")
    expected = sniff_format(data)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit: make every bomb an error, refused unread.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[expected])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageInputError(
            413,
            f"image is over the limit of {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} pixels (refused from its header)",
        ) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageInputError(422, f"cannot read the {expected} image: {error}") from error
    width, height = image.size
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise ImageInputError(
            413, f"image is {width}x{height} pixels; the limit is {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}"
        )
    if width < 1 or height < 1:
        raise ImageInputError(422, f"image is {width}x{height} pixels: nothing to read")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt pixel data
        raise ImageInputError(
            422, f"cannot decode the {expected} image (truncated or corrupt): {error}"
        ) from error
    return image


def decode_data_url(url: str) -> bytes:
    """The bytes of a base64 `data:` URL, such as a canvas's toDataURL()."""
    header, comma, payload = url.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise ImageInputError(422, "image must be a base64 data URL: data:image/png;base64,...")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageInputError(422, f"the data URL's base64 payload is malformed: {error}") from error


def to_rgb(image: Image.Image) -> np.ndarray:
    """Any PIL mode -> [H, W, 3] float32 in [0, 1], transparency composited onto white."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.float32) / 255.0


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Any PIL mode -> [H, W] float32 intensities in [0, 1], transparency composited onto white and
    16-bit depth kept (scaled, not clipped)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        deep: np.ndarray = np.clip(np.asarray(image, dtype=np.float32) / 65535.0, 0.0, 1.0)
        return deep
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _to_uint8(pixels: torch.Tensor) -> np.ndarray:
    """Intensities in [0, 1] -> uint8, in one pass for a whole batch."""
    # numpy, not torch: on 28x28 images torch's per-op overhead dominates.
    scaled = np.rint(pixels.detach().cpu().numpy() * 255.0)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def pngs(batch: torch.Tensor) -> list[bytes]:
    """[B, H, W] or [B, C, H, W] (C = 1 or 3) intensities in [0, 1] -> 8-bit grayscale or RGB PNG bytes,
    one per image.

    Written directly rather than through Pillow: Pillow's encoder spends ~170 us setting up per image,
    more than decoding the image costs, and live hover decoding sends one image per mouse move. What all
    images share (pixel conversion, row filters, header) is done once per batch."""
    pixels = _to_uint8(batch if batch.ndim == 4 else batch.unsqueeze(1))
    count, channels, height, width = pixels.shape
    if channels not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {channels}")
    interleaved = pixels.transpose(0, 2, 3, 1).reshape(count, height, width * channels)
    rows = np.zeros((count, height, width * channels + 1), dtype=np.uint8)  # each row starts with filter 0
    rows[:, :, 1:] = interleaved
    colour_type = 0 if channels == 1 else 2  # grayscale or RGB
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)  # 8 bits, no interlace
    head, end = PNG_MAGIC + _png_chunk(b"IHDR", header), _png_chunk(b"IEND", b"")
    return [head + _png_chunk(b"IDAT", zlib.compress(image.tobytes(), 1)) + end for image in rows]


def png_bytes(pixels: torch.Tensor) -> bytes:
    """[H, W] or [C, H, W] intensities in [0, 1] -> 8-bit grayscale or RGB PNG bytes."""
    return pngs(pixels[None])[0]


def png_data_urls(batch: torch.Tensor) -> list[str]:
    """[B, H, W] or [B, C, H, W] intensities in [0, 1] -> PNG data URLs."""
    return ["data:image/png;base64," + base64.b64encode(png).decode("ascii") for png in pngs(batch)]


def mosaic(tiles: torch.Tensor, n: int) -> torch.Tensor:
    """n x n images [n * n, C, H, W], row by row -> one image [C, n * H, n * W]."""
    _, channels, height, width = tiles.shape
    rows = tiles.reshape(n, n, channels, height, width).permute(2, 0, 3, 1, 4)  # [C, row, H, column, W]
    return rows.reshape(channels, n * height, n * width)
