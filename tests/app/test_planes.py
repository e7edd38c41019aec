"""The nonlinear planes' endpoints against the quick zoo's 16-D model: computed in the background with
progress, drawn, hovered (an estimate from the nearest encodings), new latents placed by the method's own
transform, cached for another server, stopped with the server, and a crash of the plane process."""

import contextlib
import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.plane_worker import PlaneWorker
from app.settings import Settings
from model.home import models_root
from model.planes import PlaneKey
from tests.app.conftest import TEST_HOSTS
from tests.conftest import TEST_EVALUATION
from tests.model.test_planes import neighbour_agreement

pytestmark = pytest.mark.slow  # each server here starts plane processes of its own
BASE = "/api/models/full-16d"


def progress_until_ended(client: TestClient, url: str, timeout: float = 300) -> list[dict[str, object]]:
    """Every progress body read from `url` until the plane is ready or failed."""
    seen = [client.get(url).json()]
    deadline = time.monotonic() + timeout
    while seen[-1]["state"] == "computing" and time.monotonic() < deadline:
        time.sleep(0.5)
        seen.append(client.get(url).json())
    return seen


@pytest.fixture(scope="module")
def tsne_map(client: TestClient) -> tuple[dict[str, object], list[dict[str, object]]]:
    """full-16d's t-SNE plane of the test images, computed through the API: its map and the progress seen."""
    started = client.post(f"{BASE}/planes/tsne")
    assert started.status_code == 202 and started.json()["state"] in ("computing", "ready")
    seen = progress_until_ended(client, f"{BASE}/planes/tsne")
    response = client.get(f"{BASE}/map?plane=tsne")
    assert response.status_code == 200, seen[-1]
    return response.json(), seen


def test_a_plane_not_computed_says_how_to_start_it(client: TestClient) -> None:
    response = client.get(f"{BASE}/map?plane=umap&split=all")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "the UMAP plane of full-16d's test and training images is not computed yet: POST "
        "/api/models/full-16d/planes/umap?split=all starts it; GET there says how far"
    )
    assert client.get(f"{BASE}/planes/umap?split=all").json()["state"] == "absent"


def test_progress_rises_to_ready_and_the_plane_keeps_classes_together(
    client: TestClient, tsne_map: tuple[dict[str, object], list[dict[str, object]]]
) -> None:
    body, seen = tsne_map
    fractions = [float(progress["fraction"]) for progress in seen]  # type: ignore[arg-type]
    assert seen[-1]["state"] == "ready" and fractions == sorted(fractions)
    assert any(progress["stage"] == "laying out" for progress in seen)
    pca = client.get(f"{BASE}/map").json()
    assert body["plane"]["method"] == "tsne" and "estimate" in body["plane"]["lift"]  # type: ignore[index]
    assert body["sigma_x"] is None and body["projection"] is None and body["label"] == pca["label"]
    labels = np.array(body["label"])
    on_plane = neighbour_agreement(np.array([body["x"], body["y"]]).T, labels)
    on_pca = neighbour_agreement(np.array([pca["x"], pca["y"]]).T, labels)
    assert on_plane > on_pca + 0.05, (on_plane, on_pca)  # quick-trained: 0.53 in the latent space


def test_hovering_an_encodings_place_decodes_the_estimate_there(
    client: TestClient, tsne_map: tuple[dict[str, object], list[dict[str, object]]]
) -> None:
    body, _ = tsne_map
    x, y = body["x"][7], body["y"][7]  # type: ignore[index]
    lifted = client.post(f"{BASE}/planes/tsne/lift", json={"points": [[x, y]]}).json()
    assert lifted["nearest"][0] < 1e-3 and "estimate" in lifted["how"]
    hovered = client.get(f"{BASE}/decode.png", params={"x": x, "y": y, "plane": "tsne"})
    at_z = client.get(f"{BASE}/decode.png", params={"z": ",".join(map(str, lifted["z"][0]))})
    pca_there = client.get(f"{BASE}/decode.png", params={"x": x / 10, "y": y / 10})
    assert hovered.content == at_z.content != pca_there.content
    outside = client.get(f"{BASE}/decode.png", params={"x": 1e4, "y": 0, "plane": "tsne"})
    assert outside.status_code == 422 and outside.json()["detail"].startswith("x, y: coordinate 0 is 10000")


def test_the_layers_decode_the_planes_estimates(
    client: TestClient, tsne_map: tuple[dict[str, object], list[dict[str, object]]]
) -> None:
    body, _ = tsne_map
    x, y = body["x"][7], body["y"][7]  # type: ignore[index]
    ranges = {"x_range": f"{x - 1},{x + 1}", "y_range": f"{y - 1},{y + 1}"}
    grid = client.get(f"{BASE}/grid.png", params={"n": 2, "spacing": "linear", "plane": "tsne", **ranges})
    top_left = np.array(Image.open(io.BytesIO(grid.content)))[:28, :28]  # the cell centred on (x-.5, y+.5)
    single = client.get(f"{BASE}/decode.png", params={"x": x - 0.5, "y": y + 0.5, "plane": "tsne"})
    assert np.array_equal(top_left, np.array(Image.open(io.BytesIO(single.content))))
    decision = client.get(f"{BASE}/decision-map", params={"n": 4, "plane": "tsne"}).json()
    xs = np.array(body["x"])
    assert decision["x"][0] < xs.min() < xs.max() < decision["x"][-1]  # over the plane's extent


def test_a_latent_is_placed_by_the_methods_transform_near_its_encodings_place(
    client: TestClient, tsne_map: tuple[dict[str, object], list[dict[str, object]]]
) -> None:
    body, _ = tsne_map
    xy = np.array([body["x"], body["y"]]).T
    chosen = [3, 500, 9000]
    lifted = client.post(f"{BASE}/planes/tsne/lift", json={"points": xy[chosen].tolist()}).json()
    placed = client.post(f"{BASE}/planes/tsne/place", json={"z": lifted["z"]})
    assert placed.status_code == 200
    distances = np.linalg.norm(np.array(placed.json()["map_xy"]) - xy[chosen], axis=1)
    assert distances.max() < 0.05 * np.linalg.norm(xy.max(axis=0) - xy.min(axis=0)), distances
    wrong = client.post(f"{BASE}/planes/tsne/place", json={"z": [[0.0, 1.0]]})
    assert wrong.status_code == 422 and wrong.json()["detail"] == (
        "z[0]: has 2 values; this model's latent_dim is 16"
    )


def test_a_2d_model_and_an_unknown_method_are_refused(client: TestClient) -> None:
    flat = client.post("/api/models/full-2d/planes/umap")
    assert flat.status_code == 409 and flat.json()["detail"] == (
        "full-2d has a 2-D latent space: its map is the latent plane itself, exact"
    )
    assert client.get(f"{BASE}/planes/isomap").status_code == 422
    assert client.get(f"{BASE}/map?plane=isomap").status_code == 422
    assert client.get("/api/models/full-2d/map").json()["plane"]["title"] == "latent plane"


def test_the_plane_is_cached_for_another_server_which_stops_what_it_computes(
    client: TestClient, quick_zoo: Path, tsne_map: tuple[dict[str, object], list[dict[str, object]]]
) -> None:
    assert (models_root(quick_zoo) / "full-16d" / "planes" / "test-tsne.safetensors").is_file()
    settings = Settings(home=quick_zoo, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION)
    with TestClient(create_app(settings)) as other:
        assert other.get(f"{BASE}/map?plane=tsne").json()["x"] == tsne_map[0]["x"]  # read, not computed
        assert other.get(f"{BASE}/planes/tsne").json()["state"] == "ready"
        assert other.post(f"{BASE}/planes/umap?split=train").json()["state"] == "computing"
        fitter = other.app.state.planes.fitter  # type: ignore[attr-defined]
        deadline = time.monotonic() + 120
        while fitter._child is None and time.monotonic() < deadline:
            time.sleep(0.2)
        process = fitter._child.process
    process.join(timeout=10)
    assert not process.is_alive()  # the server stopped: so did the plane it was computing


def test_a_plane_process_dead_before_its_request_fails_it_saying_how_it_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    worker = PlaneWorker("plane fitter")
    start = worker._start

    def start_then_die() -> Any:
        child = start()
        child.process.kill()
        # Dead before the request is sent, and left for the worker's reader to reap (WNOWAIT) if it has not.
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, child.process.pid, os.WEXITED | os.WNOWAIT)
        return child

    monkeypatch.setattr(worker, "_start", start_then_die)
    key = PlaneKey(weights="none", dataset="mnist", split="test", points=3, method="umap")
    fitted = worker.fit(tmp_path, key, np.zeros((3, 2), dtype=np.float32), lambda stage, fraction: None)
    with pytest.raises(RuntimeError, match=r"^the plane process stopped \(exit code -9\)$"):
        fitted.result(timeout=30)
    worker.close()


def test_a_crashed_plane_process_fails_its_plane_and_the_server_goes_on(client: TestClient) -> None:
    assert client.post(f"{BASE}/planes/umap?split=train").json()["state"] == "computing"
    fitter = client.app.state.planes.fitter  # type: ignore[attr-defined]
    deadline = time.monotonic() + 120
    while fitter._child is None and time.monotonic() < deadline:
        time.sleep(0.2)
    fitter._child.process.kill()
    ended = progress_until_ended(client, f"{BASE}/planes/umap?split=train")[-1]
    assert ended["state"] == "failed" and ended["error"] == "the plane process stopped (exit code -9)"
    refused = client.get(f"{BASE}/map?plane=umap&split=train")
    assert refused.status_code == 409 and refused.json()["detail"].endswith(
        "could not be computed: the plane process stopped (exit code -9)"
    )
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get(f"{BASE}/map?plane=tsne").status_code == 200  # the placer is another process
