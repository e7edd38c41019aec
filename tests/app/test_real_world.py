"""The VAEs people train, served with declarations only through `--model`: examples/'s diffusers AutoencoderKL
(spatial latents, [-1, 1], MSE) and BatchNorm conv VAE (64x64 colour shapes from a folder, [-1, 1], MSE)."""

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings
from model.factories import from_factory
from tests.app.conftest import TEST_HOSTS
from tests.app.test_outside import OUTSIDE_EVALUATION


@pytest.fixture(scope="module")
def client(quick_zoo: Path, real_world_examples: dict[str, str]) -> Iterator[TestClient]:
    outside = tuple(from_factory(spec, quick_zoo) for spec in real_world_examples.values())
    assert [model.problem for model in outside] == [None, None]
    settings = Settings(
        home=quick_zoo, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=OUTSIDE_EVALUATION, outside=outside
    )
    with TestClient(create_app(settings)) as served:
        yield served


def _summary(client: TestClient, model_id: str) -> dict[str, object]:
    return next(model for model in client.get("/api/models").json() if model["id"] == model_id)


def test_each_is_scored_by_the_gaussian_its_mse_implies_with_a_fitted_sigma(client: TestClient) -> None:
    for model_id in ("sd-vae", "shapes-vae"):
        summary = _summary(client, model_id)
        assert summary["likelihood"] == "gaussian" and summary["origin"]["kind"] == "factory"  # type: ignore[index]
        label = str(summary["likelihood_label"])
        assert label.startswith("Gaussian, sigma = ") and label.endswith("fitted on 1,000 training images")
    assert _summary(client, "sd-vae")["latent_dim"] == 196


def test_the_autoencoder_kl_traversal_names_channel_and_position(client: TestClient) -> None:
    body = client.post("/api/models/sd-vae/traversal", json={"rows": 3, "steps": 3}).json()
    for row in body["rows"]:
        channel, position = divmod(row["dim"], 49)
        assert row["name"] == f"channel {channel} at ({position // 7}, {position % 7})"


def test_the_colour_folder_is_served_at_the_size_the_model_declares(client: TestClient) -> None:
    dataset = _summary(client, "shapes-vae")["dataset"]
    shapes = next(d for d in client.get("/api/datasets").json() if d["key"] == dataset)
    assert shapes["image_shape"] == [3, 64, 64] and shapes["class_names"] == ["circle", "square", "triangle"]
    png = client.get("/api/models/shapes-vae/decode.png?x=0&y=0")
    assert png.status_code == 200
    image = Image.open(io.BytesIO(png.content))
    assert image.size == (64, 64) and image.mode == "RGB"
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).reshape(-1, 3)
    assert (pixels.max(dim=1).values - pixels.min(dim=1).values).mean() > 5  # colour, not grey


def test_an_uploaded_shape_is_prepared_as_the_folder_was_and_encoded(client: TestClient) -> None:
    photo = Image.new("RGB", (80, 80), (40, 160, 200))
    photo.paste(Image.new("RGB", (30, 30), (230, 40, 40)), (25, 25))
    upload = io.BytesIO()
    photo.save(upload, format="PNG")
    response = client.post(
        "/api/models/shapes-vae/encode", files={"file": ("shape.png", upload.getvalue(), "image/png")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["mu"]) == 16 and len(body["neighbors"]) == 8
    seen = Image.open(io.BytesIO(base64.b64decode(body["input"].partition(",")[2])))
    assert seen.size == (64, 64) and seen.getpixel((32, 32))[0] > 200  # resized whole, its red kept
    assert body["reconstruction"].startswith("data:image/png;base64,")
