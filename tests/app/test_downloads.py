"""Downloads of an interpolation strip: one PNG side by side, an animated GIF forth and back."""

import io

import numpy as np
import torch
from fastapi.testclient import TestClient
from PIL import Image

from tests.app.images import pixels_of

PATH = {"start": {"index": 1}, "via": [{"label": "7"}], "end": {"index": 0}, "steps": 4}


def test_the_png_strip_holds_each_decoded_image_scaled_up(client: TestClient) -> None:
    frames = client.post("/api/models/full-2d/interpolate", json=PATH).json()["images"]
    response = client.post("/api/models/full-2d/interpolate.png", json=PATH)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'attachment; filename="full-2d-interpolation.png"'
    strip = Image.open(io.BytesIO(response.content))
    assert len(frames) == 7 and strip.size == (7 * 114 - 2, 112)  # 4x each, 2 pixels apart
    pixels = torch.from_numpy(np.asarray(strip, dtype=np.float32)) / 255
    for position, frame in enumerate(frames):
        tile = pixels[:, position * 114 : position * 114 + 112]
        assert torch.equal(
            tile[::4, ::4], pixels_of(frame)
        )  # nearest-neighbour: every 4th pixel is the image
        assert torch.equal(tile[1::4, 3::4], pixels_of(frame))


def test_the_gif_plays_the_path_forth_and_back(client: TestClient) -> None:
    frames = client.post("/api/models/full-2d/interpolate", json=PATH).json()["images"]
    response = client.post("/api/models/full-2d/interpolate.gif", json=PATH)
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    gif = Image.open(io.BytesIO(response.content))
    assert gif.n_frames == 2 * 7 - 2 and gif.info["loop"] == 0 and gif.info["duration"] == 120
    played = []
    for number in range(gif.n_frames):
        gif.seek(number)
        played.append(torch.from_numpy(np.asarray(gif.convert("L"), dtype=np.float32))[::4, ::4] / 255)
    expected = [pixels_of(frame) for frame in frames]
    order = [*range(7), *range(5, 0, -1)]
    for number, index in enumerate(order):
        assert (played[number] - expected[index]).abs().max() <= 2 / 255  # GIF's palette rounds grays


def test_a_download_refuses_what_the_strip_refuses(client: TestClient) -> None:
    for suffix in ("png", "gif"):
        response = client.post(
            f"/api/models/full-2d/interpolate.{suffix}", json={**PATH, "end": {"index": -1}}
        )
        assert response.status_code == 404 and response.json()["detail"] == "end: no test image -1 (0..9999)"
