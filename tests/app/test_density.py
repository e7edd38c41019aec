"""A map drawn as density, through the API, on a server that draws more than 20,000 points as density: the
quick zoo's MNIST training split (60,000) is encoded in the background with progress, a view of it is its
points (checked against posterior means computed here) or its density tiles, and bad requests are refused."""

import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app import cli
from app.density_state import REGION_LIMIT
from app.main import create_app
from app.settings import Settings
from model.cli import EXIT_USAGE
from model.data import Dataset
from model.home import HOME_ENV, models_root
from model.latent_map import LatentMap
from tests.app.conftest import TEST_HOSTS
from tests.app.test_export import DATA
from tests.conftest import TEST_EVALUATION, posterior_means

BASE = "/api/models/full-16d"
DENSITY_FROM = 20_000


@pytest.fixture(scope="module")
def dense(quick_zoo: Path) -> Iterator[TestClient]:
    settings = Settings(
        home=quick_zoo,
        device="cpu",
        allowed_hosts=TEST_HOSTS,
        evaluation=TEST_EVALUATION,
        run_queue=False,
        density_from=DENSITY_FROM,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def encoded(client: TestClient, split: str) -> dict[str, object]:
    """Encode the split, following its progress; -> its map response."""
    started = client.post(f"{BASE}/encodings?split={split}")
    assert started.status_code == 202 and started.json()["state"] in ("computing", "ready")
    fractions, deadline = [started.json()["fraction"]], time.monotonic() + 120
    while (progress := client.get(f"{BASE}/encodings?split={split}").json())["state"] == "computing":
        assert time.monotonic() < deadline
        assert progress["stage"] in ("starting", "aggregating the points") or progress["stage"].endswith(
            " of 60,000"
        )
        fractions.append(progress["fraction"])
        time.sleep(0.05)
    assert progress["state"] == "ready" and fractions == sorted(fractions)
    response = client.get(f"{BASE}/map?split={split}")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_a_large_split_is_encoded_in_the_background_before_its_map_is_drawn(dense: TestClient) -> None:
    response = dense.get(f"{BASE}/map?split=train")
    assert response.status_code == 409 and response.json()["detail"] == (
        "full-16d's train map is not encoded yet: POST /api/models/full-16d/encodings?split=train"
    )
    box = {"polygon": [[-1, -1], [1, -1], [1, 1]], "split": "train"}
    region = dense.post(f"{BASE}/selection/region", json=box)  # not encoded within a request either
    assert region.status_code == 409 and region.json() == response.json()
    body = encoded(dense, "train")
    assert body["density"]["total"] == 60_000 and body["x"] == [] and body["index"] == []  # type: ignore[index]
    assert body["test_points"] == 0
    both = encoded(dense, "all")
    assert both["density"]["total"] == 70_000 and both["test_points"] == 10_000  # type: ignore[index]
    small = dense.get(f"{BASE}/map?split=test").json()  # 10,000: drawn point by point
    assert small["density"] is None and len(small["x"]) == 10_000


def test_a_small_view_is_its_points_where_the_model_puts_them(
    dense: TestClient, mnist: Dataset, quick_zoo: Path
) -> None:
    body = encoded(dense, "all")
    projection = body["projection"]
    mean, components = torch.tensor(projection["mean"]), torch.tensor(projection["components"])  # type: ignore[index]
    train_xy = (posterior_means(quick_zoo, "full-16d", mnist.train) - mean) @ components.T
    test_xy = (posterior_means(quick_zoo, "full-16d", mnist.test) - mean) @ components.T
    xy = torch.cat([test_xy, train_xy])
    centre = xy[12_345]
    x, y = f"{centre[0] - 0.2},{centre[0] + 0.2}", f"{centre[1] - 0.2},{centre[1] + 0.2}"
    view = dense.get(f"{BASE}/map/view", params={"split": "all", "x": x, "y": y, "pixels": 600}).json()
    assert 0 < view["count"] <= REGION_LIMIT and view["tiles"] == []
    inside = ((xy - centre).abs() <= 0.2 - 1e-4).all(dim=1).nonzero().squeeze(1).tolist()
    near_edge = ((xy - centre).abs() - 0.2).abs().min(dim=1).values < 1e-4
    assert set(inside) <= set(view["points"]["position"])
    assert set(view["points"]["position"]) - set(inside) <= set(near_edge.nonzero().squeeze(1).tolist())
    labels = torch.cat([mnist.test.labels, mnist.train.labels])
    assert view["points"]["label"] == labels[view["points"]["position"]].tolist()


def _opaque(png: bytes) -> int:
    return int((np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[:, :, 3] > 0).sum())


def test_a_large_view_is_density_tiles_in_the_class_colours_shown(dense: TestClient) -> None:
    body = encoded(dense, "train")
    x0, x1, y0, y1 = body["density"]["bounds"]  # type: ignore[index]
    whole = {"split": "train", "x": f"{x0},{x1}", "y": f"{y0},{y1}", "pixels": 256}
    view = dense.get(f"{BASE}/map/view", params=whole).json()
    assert view["count"] == 60_000 and view["points"] is None
    assert [(t["zoom"], t["i"], t["j"]) for t in view["tiles"]] == [(0, 0, 0)]
    deeper = dense.get(f"{BASE}/map/view", params={**whole, "pixels": 1024}).json()
    assert {(t["zoom"], t["i"], t["j"]) for t in deeper["tiles"]} == {
        (2, i, j) for i in range(4) for j in range(4)
    }

    def tile(colors: list[str]) -> bytes:
        response = dense.get(
            f"{BASE}/map/tiles/0/0/0.png", params={"split": "train", "colors": ",".join(colors)}
        )
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        return response.content

    every, ones, none = tile(["1f77b4"] * 10), tile([""] + ["ff7f0e"] + [""] * 8), tile([""] * 10)
    assert Image.open(io.BytesIO(every)).size == (256, 256)
    assert _opaque(every) > _opaque(ones) > 0 and _opaque(none) == 0


def test_density_requests_that_cannot_be_met_say_why(dense: TestClient) -> None:
    encoded(dense, "train")
    tile = f"{BASE}/map/tiles/1/2/0.png"
    wrong = dense.get(tile, params={"split": "train", "colors": "1f77b4,ff7f0e"})
    assert (
        wrong.status_code == 422
        and wrong.json()["detail"] == "colors: full-16d has 10 classes; got 2 colours"
    )
    off = dense.get(tile, params={"split": "train", "colors": ",".join(["1f77b4"] * 10)})
    assert (
        off.status_code == 422
        and off.json()["detail"] == "tile: zoom 1 has tiles 0 to 1 along each axis, got (2, 0)"
    )
    named = dense.get(
        f"{BASE}/map/tiles/0/0/0.png", params={"split": "train", "colors": "#1f77b4" + ",aaaaaa" * 9}
    )
    assert named.status_code == 422
    umap = dense.post(f"{BASE}/planes/umap?split=train")
    assert umap.status_code == 400 and umap.json()["detail"] == (
        "UMAP and t-SNE planes are fitted to maps of up to 20,000 points; full-16d's train map has 60,000: "
        "it is shown on its PCA plane"
    )
    assert dense.get(f"{BASE}/map?split=train&plane=tsne").status_code == 400


def test_serve_takes_the_density_threshold_and_refuses_one_below_a_point(
    quick_zoo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: dict[str, object] = {}
    # Planned, not served: no app is built and no server starts; serve points the environment at its
    # home, which the test puts back.
    monkeypatch.setattr(cli, "_served_app", lambda settings, outside: served.update(settings))
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv(HOME_ENV, os.environ[HOME_ENV])
    serve = ["--home", str(quick_zoo), "serve", "--no-training", "--density-from"]
    assert cli.main([*serve, "50000"]) == 0 and served["density_from"] == 50_000
    assert cli.main([*serve, "0"]) == EXIT_USAGE
    assert "latent-atlas: error: --density-from must be >= 1, got 0" in capsys.readouterr().err


def test_a_split_encoded_once_is_read_back_by_the_next_server(
    dense: TestClient, quick_zoo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = encoded(dense, "train")
    assert (models_root(quick_zoo) / "full-16d" / "encodings" / "train.safetensors").is_file()

    def no_encoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the training split was encoded again")

    settings = Settings(
        home=quick_zoo, device="cpu", allowed_hosts=TEST_HOSTS, run_queue=False, density_from=20_000
    )
    with TestClient(create_app(settings)) as second:
        monkeypatch.setattr(LatentMap, "build", no_encoding)  # the test split's map was built at start
        again = encoded(second, "train")
        whole = {"split": "train", "x": "-50,50", "y": "-50,50", "pixels": 256}
        assert again["density"] == first["density"]
        assert (
            second.get(f"{BASE}/map/view", params=whole).json()
            == dense.get(f"{BASE}/map/view", params=whole).json()
        )


def test_an_export_of_a_map_drawn_as_density_holds_the_points_of_its_view(dense: TestClient) -> None:
    body = encoded(dense, "train")
    x0, x1, y0, y1 = body["density"]["bounds"]  # type: ignore[index]
    whole = dense.get(
        f"{BASE}/export.html", params={"split": "train", "x_range": f"{x0},{x1}", "y_range": f"{y0},{y1}"}
    )
    assert whole.status_code == 400 and whole.json()["detail"] == (
        f"the view holds 60,000 points; an export of a map drawn as density holds at most {REGION_LIMIT:,}: "
        "zoom in (x_range, y_range)"
    )
    x, y = "-0.5,0.5", "-0.5,0.5"
    view = dense.get(f"{BASE}/map/view", params={"split": "train", "x": x, "y": y, "pixels": 600}).json()
    exported = dense.get(f"{BASE}/export.html", params={"split": "train", "x_range": x, "y_range": y, "n": 4})
    assert exported.status_code == 200 and view["count"] > 0
    found = DATA.search(exported.text)
    assert found is not None
    shown = json.loads(found.group(1))["map"]
    assert shown["position"] == view["points"]["position"] and shown["label"] == view["points"]["label"]
