"""/api/models/{id}/selection and selection.csv: a lasso's members summarised and exported; selection/region:
the points a polygon holds."""

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from model.classifier import classify, load_classifier
from model.data import ImageSet
from model.home import classifier_folder
from tests.app.images import pixels_of
from tests.conftest import posterior_means


def test_a_selection_counts_its_classes_and_decodes_its_mean(
    client: TestClient, quick_zoo: Path, test_set: ImageSet
) -> None:
    """The zeros among the first 300 test digits, with three others and a duplicate."""
    labels = test_set.labels
    zeros = [i for i in range(300) if labels[i] == 0]
    others = [i for i in range(300) if labels[i] != 0][:3]
    body = client.post("/api/models/full-16d/selection", json={"indices": [*zeros, *others, zeros[0]]}).json()
    expected = torch.bincount(labels[[*zeros, *others]].long(), minlength=10).tolist()
    assert body["count"] == len(zeros) + 3 and body["class_counts"] == expected
    mu = posterior_means(quick_zoo, "full-16d", test_set)
    assert body["mean_z"] == pytest.approx(mu[[*zeros, *others]].mean(dim=0).tolist(), abs=1e-5)
    judge = load_classifier(classifier_folder(quick_zoo, "mnist")).network
    with torch.inference_mode():
        predicted, _ = classify(judge, pixels_of(body["mean_image"])[None])
    assert int(predicted[0]) == 0  # the mean encoding of (mostly) zeros decodes to a zero
    decoded = client.post("/api/models/full-16d/decode", json={"points": [body["mean_z"]]}).json()
    assert torch.allclose(pixels_of(body["mean_image"]), pixels_of(decoded["images"][0]), atol=1 / 255)


def test_the_csv_holds_each_member_s_label_map_point_and_latent(
    client: TestClient, quick_zoo: Path, test_set: ImageSet
) -> None:
    response = client.post("/api/models/full-2d/selection.csv", json={"indices": [9, 2, 5, 2]})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="full-2d-selection.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["index", "split", "label", "x", "y", "z1", "z2"]
    assert [row["index"] for row in rows] == ["2", "5", "9"] and {row["split"] for row in rows} == {"test"}
    mu = posterior_means(quick_zoo, "full-2d", test_set)
    for row in rows:
        index = int(row["index"])
        assert row["label"] == str(int(test_set.labels[index]))
        z = [float(row["z1"]), float(row["z2"])]
        assert z == pytest.approx(mu[index].tolist(), abs=1e-4)
        assert [float(row["x"]), float(row["y"])] == pytest.approx(z, abs=1e-4)  # 2-D: the map is z
    wide = client.post("/api/models/full-16d/selection.csv", json={"indices": [0]}).text.splitlines()
    assert wide[0].endswith(",z16") and len(wide[1].split(",")) == 5 + 16


def test_a_bad_selection_says_what_was_wrong(client: TestClient) -> None:
    for path in ("selection", "selection.csv"):
        empty = client.post(f"/api/models/full-2d/{path}", json={"indices": []})
        assert empty.status_code == 422 and "indices" in empty.json()["detail"]
        outside = client.post(f"/api/models/full-2d/{path}", json={"indices": [3, 10_000]})
        assert outside.status_code == 404 and outside.json()["detail"] == "no test image 10000 (0..9999)"
        negative = client.post(f"/api/models/full-2d/{path}", json={"indices": [-1]})
        assert negative.status_code == 404 and negative.json()["detail"] == "no test image -1 (0..9999)"
        text = client.post(f"/api/models/full-2d/{path}", json={"indices": ["3"]})
        assert text.status_code == 422


def test_a_region_selects_the_points_inside_it_on_the_map(client: TestClient) -> None:
    body = client.get("/api/models/full-2d/map").json()
    x, y = np.array(body["x"]), np.array(body["y"])
    lasso = [[-1.0, -1.5], [1.5, -1.5], [1.5, 1.0], [0.0, 1.0], [0.0, 0.0], [-1.0, 0.0]]  # an L
    response = client.post("/api/models/full-2d/selection/region", json={"polygon": lasso})
    assert response.status_code == 200
    foot = (x > -1.0) & (x < 1.5) & (y > -1.5) & (y < 0.0)
    leg = (x > 0.0) & (x < 1.5) & (y >= 0.0) & (y < 1.0)
    # The map's coordinates are rounded to 4 decimals: a point that close to an edge may fall either way.
    near = np.isclose(x[:, None], [-1.0, 0.0, 1.5], atol=1e-3).any(1) | np.isclose(
        y[:, None], [-1.5, 0.0, 1.0], atol=1e-3
    ).any(1)
    found = response.json()
    assert found["count"] == len(found["indices"]) > 100
    assert set(found["indices"]) ^ set(np.flatnonzero(foot | leg).tolist()) <= set(
        np.flatnonzero(near).tolist()
    )
    summary = client.post("/api/models/full-2d/selection", json={"indices": found["indices"]}).json()
    assert summary["count"] == found["count"]
    labels = np.array(body["label"])
    sevens = client.post(
        "/api/models/full-2d/selection/region", json={"polygon": lasso, "labels": [7]}
    ).json()
    assert sevens["indices"] == [i for i in found["indices"] if labels[i] == 7]


def test_a_malformed_region_is_refused(client: TestClient) -> None:
    line = client.post("/api/models/full-2d/selection/region", json={"polygon": [[0, 0], [1, 1]]})
    assert line.status_code == 422 and "polygon" in line.json()["detail"]
    flat = client.post("/api/models/full-2d/selection/region", json={"polygon": [[0, 0], [1, 1], [2]]})
    assert flat.status_code == 422 and "polygon" in flat.json()["detail"]
