import gc
import shutil
from pathlib import Path

import pytest
import torch
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.settings import Settings
from model.home import HOME_ENV, data_root, models_root
from model.job_queue import JobQueue
from model.latent_map import LatentMap
from tests.app.conftest import TEST_HOSTS


def test_a_damaged_model_is_skipped_and_health_says_degraded(quick_zoo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(models_root(quick_zoo) / "full-2d", models_root(home) / "full-2d")
    damaged = models_root(home) / "broken"
    shutil.copytree(models_root(quick_zoo) / "kl-2d", damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])

    with TestClient(create_app(Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS))) as client:
        health = client.get("/api/health").json()
        assert health["status"] == "degraded" and health["models"] == ["full-2d"]
        assert "model.safetensors is truncated or corrupt" in health["problems"]["broken"]
        assert "<strong>broken</strong> (model folder): " in client.get("/lab").text
        assert client.get("/api/models/full-2d/decode.png?x=0&y=0").status_code == 200


def test_what_start_up_built_is_frozen_out_of_the_collector(client: TestClient) -> None:
    # Without the freeze, a full collection walks ~220,000 long-lived objects: a ~100 ms pause that every
    # request in flight waits out (seen as the p99 of bench/serve_latency.py).
    assert gc.get_freeze_count() > 100_000


def test_serve_no_training_trains_nothing_and_names_what_is_missing(
    quick_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A home with full-2d only: --no-training queues no job, starts no queue, and says what is missing."""
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(models_root(quick_zoo) / "full-2d", models_root(home) / "full-2d")
    served: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    threads: list[int] = []  # serve sets the process's torch threads: not this test process's
    monkeypatch.setattr(torch, "set_num_threads", threads.append)
    monkeypatch.setenv(HOME_ENV, str(home))  # serve sets it for the user's factories: restored after
    assert main(["--home", str(home), "serve", "--no-training", "--device", "cpu"]) == 0
    assert JobQueue(home).jobs() == []
    said = capsys.readouterr().out
    assert "not training (--no-training): missing recon-2d, kl-2d, full-16d, the classifier of mnist" in said
    (app,) = served
    assert threads == [1]  # serve's default: many small requests, one thread each
    with TestClient(app, base_url="http://127.0.0.1") as client:
        health = client.get("/api/health").json()
        assert (health["models"], health["training"]) == (["full-2d"], [])
        assert client.post("/api/jobs", json={"model_id": "x"}).status_code == 403
    assert JobQueue(home).jobs() == []


def test_the_test_split_is_encoded_at_the_first_start_only(
    quick_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next start reads the map's encodings from beside the model; a damaged copy is encoded again.
    (Asking for the map also encodes the training split in the background: its own cache, not counted.)"""
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(models_root(quick_zoo) / "full-16d", models_root(home) / "full-16d")
    cached = models_root(home) / "full-16d" / "encodings" / "test.safetensors"
    settings = Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS, run_queue=False)
    with TestClient(create_app(settings)) as first:
        encoded = first.get("/api/models/full-16d/map").json()
    assert cached.is_file()

    builds: list[int] = []
    build = LatentMap.build
    monkeypatch.setattr(
        LatentMap, "build", lambda *args, **kwargs: builds.append(len(args[1])) or build(*args, **kwargs)
    )
    with TestClient(create_app(settings)) as second:
        assert second.get("/api/models/full-16d/map").json() == encoded
    assert 10_000 not in builds

    cached.write_bytes(cached.read_bytes()[:1000])
    with TestClient(create_app(settings)) as third:
        assert third.get("/api/models/full-16d/map").json() == encoded
    assert builds.count(10_000) == 1
