"""The user's own models served through `serve --model`: examples/'s two models end to end (map, decode,
upload, interpolate, the lab's evaluation), beside failing factories that are skipped with their reason."""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
import torch
from fastapi.testclient import TestClient

from app import cli
from app.cli import _not_queued
from app.main import create_app
from app.settings import Settings
from model.classifier import classify, load_classifier
from model.data import ImageSet
from model.factories import build, from_factory
from model.home import HOME_ENV, classifier_folder, data_root
from model.job_queue import JobQueue
from tests.app.conftest import TEST_HOSTS
from tests.app.images import digit_image, encode, pixels_of
from tests.conftest import EXAMPLES, TEST_EVALUATION, _free_port

OUTSIDE = ("pytorch-vae", "conv-vae")
NAN_FACTORY = """
import torch
from torch import nn
from model.outside import wrap

class NaNDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(784, 4)

    def encode(self, x):
        return self.encoder(x.flatten(1)).chunk(2, dim=1)

    def decode(self, z):
        return torch.full((z.shape[0], 784), float("nan"))

def build():
    return wrap(NaNDecoder(), dataset="mnist")
"""


@pytest.fixture(scope="module")
def bad_factories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("factories")
    (folder / "missing_import.py").write_text("import not_installed_anywhere\n\ndef build():\n    pass\n")
    (folder / "nan_decoder.py").write_text(NAN_FACTORY)
    return {
        "broken-import": f"broken-import={folder / 'missing_import.py'}:build",
        "nan-decoder": f"nan-decoder={folder / 'nan_decoder.py'}:build",
    }


# No test here checks the exact figures: one digit integrated (the conv example's decoder makes each ~1 s).
OUTSIDE_EVALUATION = replace(TEST_EVALUATION, exact_limit=1)


@pytest.fixture(scope="module")
def outside_client(
    quick_zoo: Path, example_models: dict[str, str], bad_factories: dict[str, str]
) -> Iterator[TestClient]:
    """The quick zoo's home served with the two examples and two broken factories, as `serve` builds them."""
    specs = (*example_models.values(), *bad_factories.values())
    outside = tuple(from_factory(spec, quick_zoo) for spec in specs)
    settings = Settings(
        home=quick_zoo,
        device="cpu",
        allowed_hosts=TEST_HOSTS,
        evaluation=OUTSIDE_EVALUATION,
        outside=outside,
        training=True,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_bad_factories_are_skipped_with_their_reason_and_the_rest_served(outside_client: TestClient) -> None:
    health = outside_client.get("/api/health").json()
    assert health["status"] == "degraded"
    assert set(OUTSIDE) <= set(health["models"]) and "full-2d" in health["models"]
    problems = health["problems"]
    assert "raised ModuleNotFoundError: No module named 'not_installed_anywhere'" in problems["broken-import"]
    nan = "decode gave values that are not finite (NaN or inf) for 64 latent points"
    assert problems["nan-decoder"].endswith(nan)
    assert "nan-decoder" not in health["models"]
    banner = outside_client.get("/").text
    assert (
        "<strong>broken-import</strong> (your model, built by " in banner
        and "missing_import.py:build)" in banner
    )
    assert "damaged" not in banner


def test_the_model_list_says_where_each_came_from(outside_client: TestClient) -> None:
    models = {m["id"]: m for m in outside_client.get("/api/models").json()}
    source = f"{EXAMPLES / 'pytorch_vae.py'}:build"
    assert models["pytorch-vae"]["origin"] == {"kind": "factory", "source": source}
    assert models["pytorch-vae"]["title"] == "pytorch/examples VAE (784-400-20)"
    assert models["pytorch-vae"]["latent_dim"] == 20 and models["conv-vae"]["latent_dim"] == 2
    assert models["conv-vae"]["loss"] is None and models["conv-vae"]["test_metrics"] is None
    assert models["full-2d"]["origin"] == {"kind": "checkpoint", "source": "models/full-2d"}
    history = outside_client.get("/api/models/conv-vae/history")
    assert history.status_code == 404
    assert history.json()["detail"].endswith("not trained here: it has no training record")


@pytest.mark.parametrize("model_id", OUTSIDE)
def test_each_class_decodes_to_itself(outside_client: TestClient, model_id: str, quick_zoo: Path) -> None:
    """Paths through every class's typical member (by name, 0 -> 1 -> ... -> 4, then 5 -> ... -> 9) decode,
    at each member, to an image the digit classifier calls that class."""
    decoded = []
    for first in (0, 5):
        names = [{"label": str(digit)} for digit in range(first, first + 5)]
        body = outside_client.post(
            f"/api/models/{model_id}/interpolate",
            json={"start": names[0], "via": names[1:-1], "end": names[-1], "steps": 2},
        ).json()
        decoded += [pixels_of(image).flatten() for image in body["images"]]
    judge = load_classifier(classifier_folder(quick_zoo, "mnist")).network
    images = torch.stack(decoded)
    predicted, _ = classify(judge, images)
    # Chance is 1 in 10. A 2-D model this briefly trained still mixes a few classes (4 and 9, 3 and 8),
    # as the quick zoo's full-2d does.
    assert int((predicted == torch.arange(10)).sum()) >= (8 if model_id == "pytorch-vae" else 6), predicted
    png = outside_client.get(f"/api/models/{model_id}/decode.png?x=0&y=0")  # hover decoding, on the map
    assert png.headers["content-type"] == "image/png" and pixels_of(png.content).shape == (28, 28)


@pytest.mark.parametrize("model_id", OUTSIDE)
def test_an_uploaded_digit_lands_among_its_class(
    outside_client: TestClient, model_id: str, test_set: ImageSet
) -> None:
    hits, tries = 0, 30
    for index in range(tries):
        upload = encode(digit_image(test_set.images, index))
        body = outside_client.post(f"/api/models/{model_id}/encode", files={"file": ("d.png", upload)}).json()
        labels = [n["label"] for n in body["neighbors"]]
        hits += max(set(labels), key=labels.count) == int(test_set.labels[index])
    # Chance is 1 in 10; a 2-D map crowds classes together more than 20 dimensions do.
    share = 0.7 if model_id == "pytorch-vae" else 0.5
    assert hits >= share * tries, f"only {hits} of {tries} digits landed among their own class"


def test_interpolation_runs_between_the_encodings(outside_client: TestClient) -> None:
    encodings = outside_client.get("/api/models/conv-vae/map?limit=10").json()
    body = outside_client.post(
        "/api/models/conv-vae/interpolate", json={"start": {"index": 1}, "end": {"index": 7}, "steps": 5}
    ).json()
    assert len(body["images"]) == 5
    assert body["z"][0] == pytest.approx([encodings["x"][1], encodings["y"][1]], abs=1e-4)
    assert body["z"][-1] == pytest.approx([encodings["x"][7], encodings["y"][7]], abs=1e-4)


def test_the_lab_evaluates_an_outside_model(outside_client: TestClient, test_set: ImageSet) -> None:
    """The ELBO's KL term equals the analytic KL of the module's own encoder, computed here; the IWAE bound
    sits above the ELBO; the figures are cached under the home's outside/ folder."""
    body = outside_client.get("/api/models/pytorch-vae/evaluation").json()
    assert body["iwae"] > body["elbo"] and body["iwae_k"] == OUTSIDE_EVALUATION.iwae_k
    assert body["reconstruction_accuracy"] > 0.5
    network = build(f"{EXAMPLES / 'pytorch_vae.py'}:build").network  # the factory's own module
    with torch.no_grad():
        mu, logvar = network.encode(test_set.head(OUTSIDE_EVALUATION.test_limit).pixels())
    kl = float((-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean())
    assert body["kl"] == pytest.approx(kl, rel=1e-4)
    conv = outside_client.get("/api/models/conv-vae/evaluation").json()  # logits as images, a Normal
    assert conv["iwae"] > conv["elbo"] and conv["kl"] > 0 and len(conv["kl_per_dim"]) == 2
    estimators = outside_client.get("/api/models/conv-vae/estimators?samples=1&samples=10").json()
    assert estimators["score_encoder_variance"][0] > 10 * estimators["reparam_encoder_variance"][0]


def test_a_training_job_cannot_take_an_outside_models_id(outside_client: TestClient) -> None:
    request = {"model_id": "conv-vae", "dataset": "mnist", "epochs": 1, "replace": True}
    response = outside_client.post("/api/jobs", json=request)
    assert response.status_code == 422
    source = f"{EXAMPLES / 'conv_vae.py'}:build"
    assert response.json()["detail"] == f"model 'conv-vae' is your own, built by {source}: choose another id"


@pytest.mark.slow
def test_serve_takes_models_from_the_command_line(
    quick_zoo: Path, example_models: dict[str, str], bad_factories: dict[str, str]
) -> None:
    """The real command: `latent-atlas serve --model ID=FILE:FACTORY`, repeated."""
    port = _free_port()
    cli = Path(sys.executable).with_name("latent-atlas")
    command = [str(cli), "serve", "--port", str(port), "--no-training", "--device", "cpu"]
    for spec in (example_models["conv-vae"], bad_factories["broken-import"]):
        command += ["--model", spec]
    environment = {**os.environ, HOME_ENV: str(quick_zoo)}
    server = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = httpx2.get(f"http://127.0.0.1:{port}/api/health").json()
                break
            except httpx2.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.3)
        assert "conv-vae" in health["models"] and list(health["problems"]) == ["broken-import"]
        png = httpx2.get(f"http://127.0.0.1:{port}/api/models/conv-vae/decode.png?x=0&y=0")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "skipping model broken-import" in output


def test_serve_refuses_an_outside_id_that_a_queued_job_would_take(
    quick_zoo: Path, example_models: dict[str, str]
) -> None:
    """`serve --model full-2d=...` on a home still training full-2d: the job's model would replace it."""
    model = from_factory(example_models["conv-vae"].replace("conv-vae=", "full-2d=", 1), quick_zoo)
    assert _not_queued(model, {"kl-2d"}) is model
    refused = _not_queued(model, {"full-2d", "kl-2d"})
    assert refused.wrapped is None
    assert refused.problem == "the id 'full-2d' is a model this home is training: choose another"


def test_serve_with_a_model_of_ones_own_trains_no_default_models(
    quick_zoo: Path,
    example_models: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`serve --model ...` on a home with none of the data set's default models: the user asked to see
    their model, so nothing is queued (the data set's classifier is there), and the console says what is
    missing and how to train it."""
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    # Planned, not served: no app is built (it would set the process's torch threads) and no server starts;
    # serve points the environment at its home, which the test puts back.
    monkeypatch.setattr(cli, "_served_app", lambda *args: None)
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv(HOME_ENV, os.environ[HOME_ENV])
    assert (
        cli.main(["--home", str(home), "serve", "--device", "cpu", "--model", example_models["conv-vae"]])
        == 0
    )
    assert JobQueue(home).pending_targets() == []
    out = capsys.readouterr().out
    assert "not training (serving your --model): missing full-2d, " in out
    assert "training in the background" not in out
