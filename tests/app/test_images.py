import io

import numpy as np
import pytest
import torch
from PIL import Image

from app.images import ImageInputError, decode_data_url, open_image, png_bytes, to_grayscale
from tests.app.images import data_url, encode


@pytest.mark.parametrize("shape", [(28, 28), (84, 140), (1, 1)])
def test_png_writer_round_trips_through_pillow(shape: tuple[int, int]) -> None:
    pixels = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    image = Image.open(io.BytesIO(png_bytes(pixels)))
    assert image.format == "PNG" and image.mode == "L" and image.size == (shape[1], shape[0])
    expected = (pixels * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(np.asarray(image), expected)


def test_sixteen_bit_grayscale_keeps_its_depth() -> None:
    ramp = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4369).astype(np.uint16)  # 0 .. 65535
    image = open_image(encode(Image.frombytes("I;16", (4, 4), ramp.tobytes())))
    gray = to_grayscale(image)
    assert gray.max() == 1.0 and gray.min() == 0.0
    assert len(np.unique(gray)) == 16, "16-bit levels must not be clipped to white"


def test_transparency_is_composited_onto_white() -> None:
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    rgba.putpixel((3, 3), (0, 0, 0, 255))
    gray = to_grayscale(open_image(encode(rgba)))
    assert gray[0, 0] == 1.0 and gray[3, 3] == 0.0


def test_data_url_round_trip() -> None:
    assert decode_data_url(data_url(b"\x89PNG")) == b"\x89PNG"
    with pytest.raises(ImageInputError, match="base64 data URL"):
        decode_data_url("data:image/png,raw")
