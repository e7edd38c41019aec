"""The app over data sets other than MNIST: a characters zoo (its classifier, evaluation and decision map)
and a folder of unlabelled colour photos (no classifier, so the class figures say why they are empty)."""

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings
from model.config import ModelConfig, TrainConfig
from model.datasets import open_dataset
from model.home import data_root, models_root
from model.sources import characters
from model.train import train
from tests.app.conftest import TEST_HOSTS
from tests.conftest import TEST_EVALUATION


def _client(home: Path) -> TestClient:
    return TestClient(
        create_app(Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION))
    )


@pytest.fixture(scope="module")
def characters_client(characters_home: Path) -> Iterator[TestClient]:
    with _client(characters_home) as client:
        yield client


def test_a_characters_model_is_evaluated_with_its_own_classifier(characters_client: TestClient) -> None:
    body = characters_client.get("/api/models/characters-full-16d/evaluation?compute=true").json()
    assert body["test_images"] == min(500, len(characters.CLASSES) * 24)
    assert body["classifier_accuracy"] > 0.5  # 52 classes: chance is 2%
    assert body["elbo"] < body["iwae"] < 0
    decision = characters_client.get("/api/models/characters-full-2d/decision-map?n=8").json()
    labels = {label for row in decision["label"] for label in row}
    assert labels <= set(range(len(characters.CLASSES))) and len(labels) > 3


@pytest.fixture(scope="module")
def photo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An unlabelled folder of 48 colour 'photos' (gradients of random hues), and a tiny model of it."""
    root = tmp_path_factory.mktemp("photos") / "holiday"
    root.mkdir()
    generator = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, 40)
    for index in range(48):
        hue = torch.rand(3, generator=generator)
        pixels = (hue[:, None, None] * ramp[None, :, None] * ramp[None, None, :] * 255).byte()
        Image.fromarray(pixels.permute(1, 2, 0).numpy()).save(root / f"{index}.jpg")
    home = tmp_path_factory.mktemp("photo-home")
    dataset, _ = open_dataset(f"folder:{root}", data_root(home), image_size=16)
    train(
        models_root(home) / "photos-2d",
        model_id="photos-2d",
        title="Photos, 2-D",
        model_config=ModelConfig(latent_dim=2, hidden=(32,), image_shape=dataset.info.image_shape),
        config=TrainConfig(epochs=1, batch_size=8, device="cpu"),
        dataset=dataset,
        progress=False,
    )
    return home


def test_an_unlabelled_colour_folder_serves_maps_and_uploads(photo_home: Path) -> None:
    with _client(photo_home) as client:
        (summary,) = client.get("/api/datasets").json()
        assert summary["image_shape"] == [3, 16, 16] and not summary["labelled"] and not summary["drawable"]
        latent_map = client.get("/api/models/photos-2d/map").json()
        assert latent_map["class_names"] == ["images"] and len(latent_map["x"]) == 8
        photo = io.BytesIO()
        Image.new("RGB", (300, 200), (200, 30, 30)).save(photo, format="PNG")
        encoded = client.post("/api/models/photos-2d/encode", files={"file": ("red.png", photo.getvalue())})
        assert encoded.status_code == 200
        seen = Image.open(io.BytesIO(base64.b64decode(encoded.json()["input"].split(",")[1])))
        assert seen.size == (16, 16) and seen.mode == "RGB" and seen.getpixel((8, 8)) == (200, 30, 30)
        grid = Image.open(io.BytesIO(client.get("/api/models/photos-2d/grid.png?n=3").content))
        assert grid.size == (48, 48) and grid.mode == "RGB"
        # Asked only for what is computed, the lab hears "not evaluated"; asked to compute, why it cannot.
        assert client.get("/api/models/photos-2d/evaluation?compute=false").status_code == 204
        refused = client.get("/api/models/photos-2d/evaluation?compute=true")
        assert refused.status_code == 409
        assert (
            refused.json()["detail"]
            == "holiday has no labels, so there is no classifier to judge its images with"
        )
        page = client.get("/")
        assert page.status_code == 200 and 'label="holiday"' in page.text
