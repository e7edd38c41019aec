import gc
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model.home import data_root, models_root
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
        assert client.get("/api/models/full-2d/decode.png?x=0&y=0").status_code == 200


def test_what_start_up_built_is_frozen_out_of_the_collector(client: TestClient) -> None:
    # Without the freeze, a full collection walks ~220,000 long-lived objects: a ~100 ms pause that every
    # request in flight waits out (seen as the p99 of bench/serve_latency.py).
    assert gc.get_freeze_count() > 100_000
