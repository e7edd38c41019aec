"""Hostile and unusual inputs (issue: hardening). Each gets its exact status and a message saying what was
wrong, or is accepted when it is a real image; the server keeps serving throughout."""

import struct
import tracemalloc
import zlib
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from model.data import ImageSet
from tests.app.images import data_url, digit_image, encode

ENCODE = "/api/models/full-2d/encode"


@pytest.fixture(autouse=True)
def still_serving(client: TestClient) -> Iterator[None]:
    yield
    assert client.get("/api/health").json()["status"] == "ok"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size and carries one tiny IDAT: a decompression bomb's header."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _upload(client: TestClient, data: bytes, name: str = "x.png") -> tuple[int, str]:
    response = client.post(ENCODE, files={"file": (name, data)})
    return response.status_code, response.json().get("detail", "")


def test_oversized_image_names_its_size(client: TestClient) -> None:
    assert _upload(client, _png_header_only(5000, 5000)) == (
        413,
        "image is 5000x5000 pixels; the limit is 4096x4096",
    )


def test_empty_file(client: TestClient) -> None:
    assert _upload(client, b"") == (422, "the image is empty (0 bytes)")


def test_zero_and_one_pixel_images(client: TestClient) -> None:
    status, detail = _upload(client, _png_header_only(0, 0))
    assert status == 422 and "cannot read the PNG image" in detail
    assert _upload(client, encode(Image.new("L", (1, 1), 255))) == (
        422,
        "no ink found: the image is blank (one colour throughout)",
    )


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_bombs_are_refused_from_the_header(client: TestClient, side: int) -> None:
    tracemalloc.start()
    status, detail = _upload(client, _png_header_only(side, side))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (status, detail) == (413, "image is over the limit of 4096x4096 pixels (refused from its header)")
    assert peak < 20 * 1024 * 1024, f"decoding started: {peak} bytes allocated"


def test_truncated_jpeg(client: TestClient, test_set: ImageSet) -> None:
    jpeg = encode(digit_image(test_set.images, 0).resize((200, 200)), "JPEG", quality=90)
    status, detail = _upload(client, jpeg[: len(jpeg) // 2], "d.jpg")
    assert status == 422 and "truncated or corrupt" in detail


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "WEBP", "BMP"])
def test_other_formats_are_415(client: TestClient, fmt: str) -> None:
    status, detail = _upload(client, encode(Image.new("L", (28, 28)), fmt), "digit.png")
    assert status == 415 and detail.startswith("unsupported image type")


def test_svg_data_url_is_415(client: TestClient) -> None:
    svg = data_url(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"
    )
    body = {"start": {"image": svg}, "end": {"index": 0}}
    response = client.post("/api/models/full-2d/interpolate", json=body)
    assert response.status_code == 415


def _accepted_like_the_original(client: TestClient, data: bytes, original: list[float]) -> None:
    response = client.post(ENCODE, files={"file": ("d.png", data)})
    assert response.status_code == 200, response.text
    mu = response.json()["mu"]
    assert np.linalg.norm(np.subtract(mu, original)) < 0.5, (mu, original)


@pytest.fixture
def digit_and_mu(client: TestClient, test_set: ImageSet) -> tuple[Image.Image, list[float]]:
    digit = digit_image(test_set.images, 1)
    return digit, client.post(ENCODE, files={"file": ("d.png", encode(digit))}).json()["mu"]


def test_real_images_in_every_mode_are_accepted(
    client: TestClient, digit_and_mu: tuple[Image.Image, list[float]]
) -> None:
    digit, mu = digit_and_mu
    paper = Image.eval(digit, lambda v: 255 - v)  # dark ink on white
    sixteen = Image.frombytes("I;16", digit.size, (np.asarray(digit, dtype=np.uint16) * 257).tobytes())
    rgba = Image.new("RGBA", digit.size, (0, 0, 0, 0))
    rgba.putalpha(digit)  # black ink, transparent paper
    variants = {
        "16-bit grayscale": encode(sixteen),
        "RGBA on transparent": encode(rgba),
        "palette": encode(paper.convert("P")),
        "LA": encode(paper.convert("LA")),
        "CMYK JPEG": encode(paper.convert("CMYK"), "JPEG", quality=95),
    }
    for name, data in variants.items():
        try:
            _accepted_like_the_original(client, data, mu)
        except AssertionError as error:
            raise AssertionError(name) from error
    one_bit = encode(paper.point(lambda v: 255 if v > 128 else 0).convert("1"))
    assert client.post(ENCODE, files={"file": ("d.png", one_bit)}).status_code == 200


def test_deeply_nested_and_huge_json(client: TestClient) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    headers = {"content-type": "application/json"}
    for path in (ENCODE, "/api/models/full-2d/decode", "/api/models/full-2d/interpolate"):
        response = client.post(path, content=nested, headers=headers)
        assert response.status_code in (400, 422) and "detail" in response.json(), (path, response.text)
    huge = '{"points": [' + ",".join(["[0,0]"] * 1_000_000) + "]}"  # 6 MB
    assert client.post("/api/models/full-2d/decode", content=huge, headers=headers).status_code == 413


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e308", '"1"', "null", "true"])
def test_non_numbers_as_coordinates(client: TestClient, value: str) -> None:
    body = '{"points": [[' + value + ", 0]]}"
    response = client.post(
        "/api/models/full-2d/decode", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["detail"], value


@pytest.mark.parametrize(
    "model_id", ["../x", "%2e%2e%2f", "%2e%2e", "..%5c..%5cwindows", "%2fetc%2fpasswd", "a%00b"]
)
def test_path_like_model_ids_never_reach_the_filesystem(client: TestClient, model_id: str) -> None:
    response = client.get(f"/api/models/{model_id}/decode.png?x=0&y=0")
    assert response.status_code == 404


@pytest.mark.parametrize("steps", [0, -1, 2.5, 10**9, "10", None])
def test_steps_out_of_range_are_refused_before_allocating(client: TestClient, steps: object) -> None:
    body = {"start": {"index": 0}, "end": {"index": 1}, "steps": steps}
    response = client.post("/api/models/full-2d/interpolate", json=body)
    assert response.status_code == 422 and "steps" in response.json()["detail"]
