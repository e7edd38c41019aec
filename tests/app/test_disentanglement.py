"""Known factors over HTTP: the disentanglement scores, computed in the background one model at a time,
cached beside the model, served with the factor x latent matrices and each score's spread over the seeds of
a recipe; a data set's sweep; refusals for data sets whose factors are not known; and each map point's
factor values."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model.checkpoint import load_network
from model.datasets import open_dataset
from model.disentanglement import METRICS, scores_of
from model.factor_scores import SCORES_FILE, factor_source
from model.home import data_root, models_root
from model.sources import sprites
from tests.app.conftest import TEST_HOSTS
from tests.conftest import SPRITES_SWEEP, TEST_DISENTANGLEMENT, TEST_EVALUATION
from tests.fixture_cache import copy_tree


@pytest.fixture(scope="module")
def sprites_home(sprites_zoo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sprites sweep's home: what the tests score is cached here, not in the shared one."""
    return copy_tree(sprites_zoo, tmp_path_factory.mktemp("sprites-scored"))


@pytest.fixture(scope="module")
def sprites_client(sprites_home: Path) -> Iterator[TestClient]:
    settings = Settings(
        home=sprites_home,
        device="cpu",
        allowed_hosts=TEST_HOSTS,
        evaluation=TEST_EVALUATION,
        disentanglement=TEST_DISENTANGLEMENT,
        run_queue=False,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _wait_until_scored(client: TestClient, model_id: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        progress = client.get(f"/api/models/{model_id}/disentanglement/progress").json()
        assert progress["state"] != "failed", progress["error"]
        if progress["state"] == "ready":
            return
        time.sleep(0.2)
    pytest.fail(f"{model_id} was not scored in time")


def test_a_sweep_is_scored_in_the_background_and_each_model_served_with_its_seeds_spread(
    sprites_client: TestClient, sprites_home: Path
) -> None:
    before = sprites_client.get("/api/models/vae-s0/disentanglement")
    assert before.status_code == 409
    assert before.json()["detail"] == (
        "vae-s0's disentanglement scores are not computed yet: POST /api/models/vae-s0/disentanglement "
        "starts them"
    )
    started = sprites_client.post("/api/disentanglement/sweep", params={"dataset": sprites.SMALL_KEY})
    assert started.status_code == 202
    assert {model["model_id"]: model["state"] for model in started.json()["models"]} == dict.fromkeys(
        SPRITES_SWEEP, "computing"
    )
    for model_id in SPRITES_SWEEP:
        _wait_until_scored(sprites_client, model_id)

    served = {
        model_id: sprites_client.get(f"/api/models/{model_id}/disentanglement").json()
        for model_id in SPRITES_SWEEP
    }
    vae = served["vae-s0"]
    assert vae["factors"] == ["shape", "scale", "orientation", "x", "y"]
    assert [metric["name"] for metric in vae["metrics"]] == list(METRICS)
    # The served scores are the model's own, as computed here from its weights with the same settings.
    folder = models_root(sprites_home) / "vae-s0"
    info, network = load_network(folder)
    network.eval()
    source = factor_source(network, info.dataset)
    assert source is not None
    assert vae["figures"] == pytest.approx(scores_of(source, TEST_DISENTANGLEMENT).figures(), abs=1e-9)
    # MIG from its matrix, by Chen et al.'s definition: the top two codes' gap per factor, averaged.
    information = np.array(vae["information"])
    assert information.shape == (4, 5) and np.array(vae["importance"]).shape == (4, 5)
    top_two = np.sort(information, axis=0)[-2:]
    assert vae["figures"]["mig"] == pytest.approx(float(np.mean(top_two[1] - top_two[0])))
    assert (
        vae["reconstruction_nll"]
        == json.loads((folder / "config.json").read_text())["metrics"]["reconstruction_nll"]
    )
    # The two seeds of the VAE recipe are one sweep point; the beta-TCVAE is a recipe of its own.
    assert vae["seed_models"] == ["vae-s0", "vae-s1"]
    for name in METRICS:
        pair = [served[model_id]["figures"][name] for model_id in ("vae-s0", "vae-s1")]
        spread = vae["seeds"][name]
        assert spread["mean"] == pytest.approx(np.mean(pair))
        assert spread["standard_error"] == pytest.approx(np.std(pair, ddof=1) / np.sqrt(2))
        assert spread["seeds"] == 2
    tcvae = served["tcvae-s0"]
    assert tcvae["seed_models"] == ["tcvae-s0"]
    assert tcvae["seeds"]["mig"] == {"mean": tcvae["figures"]["mig"], "standard_error": None, "seeds": 1}

    sweep = sprites_client.get("/api/disentanglement/sweep", params={"dataset": sprites.SMALL_KEY}).json()
    rows = {model["model_id"]: model for model in sweep["models"]}
    assert {
        model_id: (row["loss"], row["beta"], row["seed"], row["state"]) for model_id, row in rows.items()
    } == {
        "vae-s0": ("full", 1.0, 0, "ready"),
        "vae-s1": ("full", 1.0, 1, "ready"),
        "tcvae-s0": ("tcvae", 6.0, 0, "ready"),
    }
    assert all(rows[model_id]["figures"] == served[model_id]["figures"] for model_id in SPRITES_SWEEP)
    assert (folder / SCORES_FILE).is_file()


def test_scores_cached_beside_a_model_are_served_by_a_new_server_without_computing(
    sprites_client: TestClient, sprites_home: Path
) -> None:
    sprites_client.post("/api/models/vae-s1/disentanglement")
    _wait_until_scored(sprites_client, "vae-s1")
    first = sprites_client.get("/api/models/vae-s1/disentanglement").json()
    settings = Settings(
        home=sprites_home,
        device="cpu",
        allowed_hosts=TEST_HOSTS,
        disentanglement=TEST_DISENTANGLEMENT,
        run_queue=False,
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/models/vae-s1/disentanglement/progress").json()["state"] == "ready"
        assert client.get("/api/models/vae-s1/disentanglement").json() == first


def test_a_data_set_whose_factors_are_not_known_is_refused(client: TestClient) -> None:
    refused = client.post("/api/models/full-2d/disentanglement")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "full-2d was trained on MNIST handwritten digits, whose factors of variation are not known: the "
        "disentanglement scores need a set of known factors (sprites)"
    )
    assert client.get("/api/models/full-2d/disentanglement").status_code == 409
    mnist = client.get("/api/disentanglement/sweep", params={"dataset": "mnist"})
    assert mnist.status_code == 409
    assert mnist.json()["detail"] == (
        "MNIST handwritten digits's factors of variation are not known: a sweep needs a set of known factors"
    )
    unknown = client.get("/api/disentanglement/sweep", params={"dataset": "cifar"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("no data set 'cifar' is served: ")


def test_a_map_of_known_factors_lists_each_point_s_factor_values_in_the_map_s_order(
    sprites_client: TestClient, sprites_home: Path, client: TestClient
) -> None:
    dataset, _ = open_dataset(sprites.SMALL_KEY, data_root(sprites_home))
    assert dataset.test.factors is not None and dataset.train.factors is not None
    names = [factor.name for factor in dataset.info.factors]
    test_map = sprites_client.get("/api/models/vae-s0/map").json()
    assert list(test_map["factors"]) == names
    for k, name in enumerate(names):
        assert test_map["factors"][name] == dataset.test.factors[:, k].tolist()
    both = sprites_client.get("/api/models/vae-s0/map", params={"split": "all", "limit": 600}).json()
    tests = both["test_points"]
    expected = torch.cat([dataset.test.factors[:tests], dataset.train.factors[: 600 - tests]])
    assert both["factors"]["x"] == expected[:, 3].tolist()
    assert client.get("/api/models/full-2d/map").json()["factors"] == {}
