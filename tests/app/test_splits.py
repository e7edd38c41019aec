"""All the digits: the training split on the map (alone or after the test split), and the training images
as ends, centres, selections and groups."""

import csv
import io
import time
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from model.data import ImageSet
from tests.conftest import posterior_means


@pytest.fixture(scope="module")
def train_mu(quick_zoo: Path, train_set: ImageSet) -> torch.Tensor:
    """full-2d's posterior means of the training split."""
    return posterior_means(quick_zoo, "full-2d", train_set)


def test_the_map_of_both_splits_holds_the_test_points_then_the_training_ones(
    client: TestClient, train_set: ImageSet, train_mu: torch.Tensor
) -> None:
    test = client.get("/api/models/full-2d/map").json()
    both = client.get("/api/models/full-2d/map?split=all").json()
    train = client.get("/api/models/full-2d/map?split=train").json()
    tests, trains = len(test["x"]), len(train_set)
    assert both["split"] == "all" and both["test_points"] == tests and len(both["x"]) == tests + trains
    assert both["x"][:tests] == test["x"] and both["x"][tests:] == train["x"] and train["test_points"] == 0
    assert both["index"] == [*range(tests), *range(trains)]
    assert both["label"][tests:] == train_set.labels.tolist()
    xy = torch.tensor([train["x"], train["y"]]).T
    assert torch.allclose(xy, train_mu, atol=1e-4)  # 2-D: each training point sits at its encoding
    assert both["coordinate_limit"] == test["coordinate_limit"]
    limited = client.get("/api/models/full-2d/map?split=all&limit=10005").json()
    assert limited["test_points"] == tests and limited["index"][-5:] == [0, 1, 2, 3, 4]


def test_a_training_image_is_an_end_a_posterior_and_a_group(
    client: TestClient, train_mu: torch.Tensor, train_set: ImageSet
) -> None:
    path = {"start": {"index": 5, "split": "train"}, "end": {"index": 5}, "steps": 2}
    strip = client.post("/api/models/full-2d/interpolate", json=path).json()
    assert strip["z"][0] == pytest.approx(train_mu[5].tolist(), abs=1e-5)
    posterior = client.post("/api/models/full-2d/posterior", json={"index": 5, "split": "train"}).json()
    assert posterior["mu"] == pytest.approx(train_mu[5].tolist(), abs=1e-5)
    ones = (train_set.labels == 1).nonzero().flatten().tolist()
    by_class = {"label": "1", "split": "train"}
    by_indices = {"indices": ones, "split": "train"}
    request = {"b": {"label": "0"}, "to": {"index": 3}, "steps": 2}
    vectors = [
        client.post("/api/models/full-2d/arithmetic", json={"a": group, **request}).json()
        for group in (by_class, by_indices)
    ]
    assert vectors[0]["vector"] == pytest.approx(vectors[1]["vector"], abs=1e-5)
    assert vectors[0]["a_count"] == len(ones)
    zeros = client.post("/api/models/full-2d/selection.csv", json={"indices": list(range(10_000))}).text
    test_zeros = [row for row in csv.DictReader(io.StringIO(zeros)) if row["label"] == "0"]
    zero_mean = torch.tensor([[float(row["z1"]), float(row["z2"])] for row in test_zeros]).mean(dim=0)
    expected = train_mu[ones].mean(dim=0) - zero_mean  # a training mean minus a test mean
    assert vectors[0]["vector"] == pytest.approx(expected.tolist(), abs=1e-3)


def test_a_selection_across_both_splits_exports_each_member_s_own_split(
    client: TestClient, train_mu: torch.Tensor
) -> None:
    tests = len(client.get("/api/models/full-2d/map").json()["x"])
    positions = [2, tests + 7, tests - 1, tests]
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.post(
                    "/api/models/full-2d/selection.csv", json={"indices": positions, "split": "all"}
                ).text
            )
        )
    )
    assert [(row["split"], row["index"]) for row in rows] == [
        ("test", "2"),
        ("test", str(tests - 1)),
        ("train", "0"),
        ("train", "7"),
    ]
    assert [float(rows[3]["z1"]), float(rows[3]["z2"])] == pytest.approx(train_mu[7].tolist(), abs=1e-4)
    summary = client.post("/api/models/full-2d/selection", json={"indices": positions, "split": "all"}).json()
    assert summary["count"] == 4


def test_a_point_outside_a_split_is_named_in_its_split(client: TestClient, train_set: ImageSet) -> None:
    last = len(train_set) - 1
    cases = [
        (
            "interpolate",
            {"start": {"index": last + 1, "split": "train"}, "end": {"index": 0}},
            "start: no training image",
        ),
        ("posterior", {"index": last + 1, "split": "train"}, "no training image"),
        ("selection", {"indices": [10_000 + last + 1], "split": "all"}, "no point of the map"),
    ]
    for path, body, message in cases:
        response = client.post(f"/api/models/full-2d/{path}", json=body)
        assert response.status_code == 404, path
        detail = response.json()["detail"]
        assert detail.startswith(message) and detail.endswith(
            f"(0..{last if path != 'selection' else 10_000 + last})"
        )
    bad = client.get("/api/models/full-2d/map?split=validation")
    assert bad.status_code == 422 and "split" in bad.json()["detail"]


def test_looking_at_the_test_split_prepares_both_in_the_background(
    client: TestClient, train_set: ImageSet
) -> None:
    served = client.app.state.registry.models["recon-2d"]  # type: ignore[attr-defined]
    tests = len(client.get("/api/models/recon-2d/map").json()["x"])
    assert served.preparing is not None
    deadline = time.monotonic() + 60
    while not served.preparing.done() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert served.preparing.done() and served.preparing.exception() is None
    assert f"map:all:{tests + len(train_set)}:pca" in served.responses  # the first request is then instant
