"""/api/models/{id}/posterior: the exact posterior of one image under a 2-D model."""

import pytest
from fastapi.testclient import TestClient

from model.data import ImageSet
from tests.app.images import data_url, digit_image, encode
from tests.conftest import TEST_EVALUATION


def test_the_exact_posterior_of_a_test_digit(client: TestClient) -> None:
    body = client.post("/api/models/full-2d/posterior", json={"index": 3}).json()
    assert body["change"] <= 0.01 and body["iwae_k"] == TEST_EVALUATION.iwae_k
    assert body["elbo"] < body["log_px"] and body["gap"] == pytest.approx(body["log_px"] - body["elbo"])
    x, y, density = body["x"], body["y"], body["density"]
    assert len(density) == len(y) and len(density[0]) == len(x)
    area = (x[1] - x[0]) * (y[1] - y[0])
    assert sum(map(sum, density)) * area == pytest.approx(1.0, abs=0.02)  # p(z|x) integrates to 1
    # The posterior's mass sits where q(z|x) puts it: its mean within a unit of q's.
    total = sum(map(sum, density))
    mean_x = sum(d * x[j] for row in density for j, d in enumerate(row)) / total
    mean_y = sum(d * y[i] for i, row in enumerate(density) for d in row) / total
    assert abs(mean_x - body["mu"][0]) < 1 and abs(mean_y - body["mu"][1]) < 1


def test_an_uploaded_image_has_its_posterior_too(client: TestClient, test_set: ImageSet) -> None:
    image = data_url(encode(digit_image(test_set.images, 3)))
    by_image = client.post("/api/models/full-2d/posterior", json={"image": image}).json()
    by_index = client.post("/api/models/full-2d/posterior", json={"index": 3}).json()
    assert by_image["log_px"] == pytest.approx(by_index["log_px"], abs=5.0)  # prepared as uploads are


def test_the_posterior_refuses_what_it_cannot_compute(client: TestClient) -> None:
    wide = client.post("/api/models/full-16d/posterior", json={"index": 0})
    assert wide.status_code == 422
    assert wide.json()["detail"] == (
        "the exact posterior is computed for 2-D models; full-16d has 16 latent dimensions"
    )
    missing = client.post("/api/models/full-2d/posterior", json={"index": 10_000})
    assert missing.status_code == 404 and missing.json()["detail"] == "no test image 10000 (0..9999)"
    both = client.post("/api/models/full-2d/posterior", json={"index": 1, "image": "data:,"})
    assert both.status_code == 422 and "give exactly one of index or image" in both.json()["detail"]
