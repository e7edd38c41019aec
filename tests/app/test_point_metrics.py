"""Per-point metrics through the API on the quick zoo's 16-D model: computed in the background with
progress, served in the map's order, an upload's log p(x) placed among the test images', and refusals."""

import time

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from model.data import ImageSet
from model.point_metrics import POINT_METRICS, TYPICALITY_CAVEAT
from tests.app.images import digit_image, encode

BASE = "/api/models/full-16d"


def metrics_when_ready(client: TestClient, split: str = "test") -> dict[str, object]:
    """Start the split's metrics, wait for them, and return their values (progress checked on the way)."""
    started = client.post(f"{BASE}/point-metrics?split={split}")
    assert started.status_code == 202 and started.json()["state"] in ("computing", "ready")
    fractions = [started.json()["fraction"]]
    deadline = time.monotonic() + 300
    progress_url = f"{BASE}/point-metrics/progress?split={split}"
    while (progress := client.get(progress_url).json())["state"] == "computing":
        assert time.monotonic() < deadline
        fractions.append(progress["fraction"])
        time.sleep(0.2)
    assert progress["state"] == "ready" and fractions == sorted(fractions)
    return client.get(f"{BASE}/point-metrics?split={split}").json()


def test_metrics_not_computed_say_how_to_start_them(client: TestClient) -> None:
    response = client.get(f"{BASE}/point-metrics?split=all")
    assert response.status_code == 409 and response.json()["detail"] == (
        "full-16d's per-point metrics are not computed yet: POST "
        "/api/models/full-16d/point-metrics?split=all starts them"
    )
    assert client.get(f"{BASE}/point-metrics/progress?split=all").json()["state"] in ("absent", "computing")


def test_every_test_image_gets_each_metric_and_their_mean_is_the_models_elbo(client: TestClient) -> None:
    body = metrics_when_ready(client)
    assert [metric["name"] for metric in body["metrics"]] == list(POINT_METRICS)  # type: ignore[union-attr]
    values = body["values"]
    assert all(len(values[name]) == 10_000 for name in POINT_METRICS)  # type: ignore[index]
    summary = next(m for m in client.get("/api/models").json() if m["id"] == "full-16d")
    elbo, log_px = np.mean(values["elbo"]), np.mean(values["log_px"])  # type: ignore[index]
    assert abs(elbo + summary["test_metrics"]["neg_elbo"]) < 0.5 and log_px > elbo


def test_an_upload_is_placed_among_the_test_images_by_its_log_px(
    client: TestClient, test_set: ImageSet
) -> None:
    metrics_when_ready(client)
    digit = client.post(f"{BASE}/encode", files={"file": ("d.png", encode(digit_image(test_set.images, 5)))})
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8))
    static = client.post(f"{BASE}/encode", files={"file": ("n.png", encode(noise))})
    typical, odd = digit.json()["typicality"], static.json()["typicality"]
    assert typical["caveat"] == TYPICALITY_CAVEAT and 5 < typical["percentile"] <= 100
    assert odd["percentile"] < 5 and odd["log_px"] < typical["log_px"]  # noise, framed as a digit would be
