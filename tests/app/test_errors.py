"""Every bad input gets the right status and a message saying what was wrong; the server keeps serving."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from PIL import Image

from model.data import ImageSet
from tests.app.images import data_url, digit_image, encode

ENCODE = "/api/models/full-2d/encode"


def _detail(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    return str(body["detail"])


@pytest.fixture(autouse=True)
def still_serving(client: TestClient) -> Iterator[None]:
    yield
    assert client.get("/api/health").json()["status"] == "ok"


def test_unknown_model_lists_the_valid_ids(client: TestClient) -> None:
    detail = _detail(client.get("/api/models/nope/map"), 404)
    assert detail == "unknown model 'nope'; valid ids: full-2d, recon-2d, kl-2d, full-16d, beta-4-2d"
    assert _detail(client.get("/api/models/%00x/decode.png?x=0&y=0"), 404).startswith(
        "unknown model '\\x00x'"
    )
    assert client.get("/api/models/..%2fx/decode.png?x=0&y=0").status_code == 404  # ids are keys, not paths


def test_unknown_indices_are_404(client: TestClient) -> None:
    assert "no test image 10000 (0..9999)" in _detail(
        client.post(
            "/api/models/full-2d/interpolate", json={"start": {"index": 10_000}, "end": {"index": 0}}
        ),
        404,
    )
    assert "the test split has 10000" in _detail(client.get("/api/datasets/mnist/test/10000.png"), 404)
    assert (
        _detail(client.get("/api/datasets/cifar/test/0.png"), 404)
        == "no data set 'cifar' is served; served: mnist"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x=nan&y=0", "query parameter 'x': Input should be a finite number"),
        ("x=0&y=inf", "query parameter 'y': Input should be a finite number"),
        ("x=0&y=-Infinity", "query parameter 'y': Input should be a finite number"),
        ("x=1e400&y=0", "query parameter 'x': Input should be a finite number"),
        ("x=11&y=0", "x, y: coordinate 0 is 11; |coordinates| must be <= 10"),
        ("x=1e308&y=0", "|coordinates| must be <= 10"),
        ("x=abc&y=0", "query parameter 'x': Input should be a valid number"),
        ("z=1,2,3", "z: z has 3 values; this model's latent_dim is 2"),
        ("z=1,two", "query parameter 'z.1': Input should be a valid number"),
        ("z=1,nan", "query parameter 'z.1': Input should be a finite number"),
        ("x=1", "give x and y (map coordinates) or z"),
    ],
)
def test_decode_png_rejects_bad_coordinates(client: TestClient, query: str, message: str) -> None:
    assert message in _detail(client.get(f"/api/models/full-2d/decode.png?{query}"), 422)


def test_batch_decode_rejects_bad_points(client: TestClient) -> None:
    url = "/api/models/full-16d/decode"
    assert "points[1]: got 3 values; send [x, y] or a z of length 16" in _detail(
        client.post(url, json={"points": [[0, 0], [1, 2, 3]]}), 422
    )
    nan_body = '{"points": [[NaN, 0]]}'
    headers = {"content-type": "application/json"}
    assert "field 'points.0.0': Input should be a finite number" in _detail(
        client.post(url, content=nan_body, headers=headers), 422
    )
    assert "at most 1024 items" in _detail(client.post(url, json={"points": [[0, 0]] * 1025}), 422)
    assert "field 'points.0.0'" in _detail(client.post(url, json={"points": [["a", 0]]}), 422)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (1, "greater than or equal to 2"),
        (65, "less than or equal to 64"),
        (2.5, "valid integer"),
        (10**9, "64"),
    ],
)
def test_interpolate_rejects_steps_out_of_range(client: TestClient, steps: float, message: str) -> None:
    body = {"start": {"index": 0}, "end": {"index": 1}, "steps": steps}
    assert message in _detail(client.post("/api/models/full-2d/interpolate", json=body), 422)


def test_interpolate_needs_exactly_one_way_to_name_an_end(client: TestClient) -> None:
    body = {"start": {"index": 0, "z": [0, 0]}, "end": {}}
    detail = _detail(client.post("/api/models/full-2d/interpolate", json=body), 422)
    assert detail == (
        "field 'start': give exactly one of index, z, point, image or label (got ['index', 'z']); "
        "field 'end': give exactly one of index, z, point, image or label (got none)"
    )


def test_upload_that_is_text_named_png_is_415(client: TestClient) -> None:
    detail = _detail(
        client.post(ENCODE, files={"file": ("digit.png", b"hello, I am text", "image/png")}), 415
    )
    assert detail == "unsupported image type: send a PNG or JPEG (checked by content, not name)"
    gif = encode(Image.new("L", (28, 28)), "GIF")
    assert _detail(client.post(ENCODE, files={"file": ("d.gif", gif)}), 415).startswith(
        "unsupported image type"
    )


def test_truncated_png_is_422(client: TestClient, test_set: ImageSet) -> None:
    png = encode(digit_image(test_set.images, 0))
    detail = _detail(client.post(ENCODE, files={"file": ("d.png", png[: len(png) // 2])}), 422)
    assert "truncated or corrupt" in detail


def test_blank_image_is_no_ink_found(client: TestClient) -> None:
    blank = encode(Image.new("L", (64, 64), 255))
    assert _detail(client.post(ENCODE, files={"file": ("b.png", blank)}), 422).startswith("no ink found")


def test_image_over_4096_pixels_is_refused_from_its_header(client: TestClient) -> None:
    wide = encode(Image.new("L", (5000, 2)))
    assert _detail(client.post(ENCODE, files={"file": ("w.png", wide)}), 413) == (
        "image is 5000x2 pixels; the limit is 4096x4096"
    )


def test_body_over_5mb_is_413_with_and_without_content_length(client: TestClient) -> None:
    big = b"\x89PNG\r\n\x1a\n" + bytes(5 * 1024 * 1024)
    assert "over the limit of 5242880 bytes" in _detail(
        client.post(ENCODE, files={"file": ("big.png", big)}), 413
    )

    def chunks() -> Iterator[bytes]:
        for _ in range(6):
            yield b"x" * (1024 * 1024)

    decode = "/api/models/full-2d/decode"  # a JSON body, read whole: the stream is cut at the limit
    chunked = client.post(decode, content=chunks(), headers={"content-type": "application/json"})
    assert "over the limit" in _detail(chunked, 413)


def test_bad_data_urls_are_422(client: TestClient) -> None:
    def interpolate_from(image: str) -> Response:
        body = {"start": {"image": image}, "end": {"index": 0}}
        return client.post("/api/models/full-2d/interpolate", json=body)

    assert "start.image: image must be a base64 data URL" in _detail(interpolate_from("hello"), 422)
    assert "malformed" in _detail(interpolate_from("data:image/png;base64,@@@"), 422)
    svg = data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    assert _detail(interpolate_from(svg), 415).startswith("start.image: unsupported image type")


def test_encode_without_a_file_field(client: TestClient) -> None:
    assert (
        _detail(client.post(ENCODE, files={"other": ("a.png", b"x")}), 422) == "field 'file': Field required"
    )
    assert _detail(client.post(ENCODE, content=b"x"), 422) == "field 'file': Field required"
    png = {"image": "data:image/png;base64,iVBORw0KGgo="}
    assert _detail(client.post(ENCODE, json=png), 422) == "field 'file': Field required"
