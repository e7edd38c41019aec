"""/api/models/{id}/traversal: one decoded row per latent dimension, by KL, dead dimensions marked."""

from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from model.checkpoint import load_network
from model.data import ImageSet
from model.home import models_root
from model.metrics import elbo_metrics
from tests.app.images import pixels_of


@pytest.fixture(scope="module")
def wide(quick_zoo: Path, test_set: ImageSet) -> tuple[torch.Tensor, torch.Tensor]:
    """full-16d's posterior means and standard deviations over the test split, computed here."""
    _, network = load_network(models_root(quick_zoo) / "full-16d")
    with torch.inference_mode():
        posterior = network.encode(test_set.pixels())
    return posterior.mu, posterior.sigma


def test_rows_are_the_dimensions_by_kl_with_dead_ones_marked(
    client: TestClient, wide: tuple[torch.Tensor, torch.Tensor], quick_zoo: Path, test_set: ImageSet
) -> None:
    body = client.post("/api/models/full-16d/traversal", json={}).json()
    mu, sigma = wide
    kl = (0.5 * (mu**2 + sigma**2 - 1 - 2 * sigma.log())).mean(dim=0)
    assert [row["dim"] for row in body["rows"]] == kl.argsort(descending=True).tolist()
    assert [row["name"] for row in body["rows"]] == [f"z{row['dim'] + 1}" for row in body["rows"]]
    assert [row["kl"] for row in body["rows"]] == pytest.approx(
        kl.sort(descending=True).values.tolist(), abs=1e-4
    )
    activity = mu.var(dim=0, correction=0)
    assert [row["active"] for row in body["rows"]] == [
        bool(activity[row["dim"]] > 0.01) for row in body["rows"]
    ]
    _, network = load_network(models_root(quick_zoo) / "full-16d")
    assert body["active_units"] == elbo_metrics(network, test_set.pixels()).active_units
    assert body["centre"] == [0.0] * 16 and body["offsets"] == pytest.approx(
        torch.linspace(-3, 3, 9).tolist()
    )
    # A row changes its image as much as its dimension is used: the top one most, a dead one barely.
    change = [
        (pixels_of(row["images"][0]) - pixels_of(row["images"][-1])).abs().mean().item()
        for row in body["rows"]
    ]
    assert change[0] > 0.05 and change[0] > 3 * change[-1]
    for row, moved in zip(body["rows"], change, strict=True):
        if not row["active"]:
            assert moved < 0.02


def test_each_image_decodes_the_centre_moved_along_its_row(client: TestClient) -> None:
    body = client.post(
        "/api/models/full-16d/traversal", json={"centre": {"index": 7}, "rows": 3, "steps": 5, "extent": 2}
    ).json()
    assert len(body["rows"]) == 3 and all(len(row["images"]) == 5 for row in body["rows"])
    centre = body["centre"]
    assert body["offsets"] == pytest.approx([-2, -1, 0, 1, 2])
    for row in body["rows"]:
        z = list(centre)
        z[row["dim"]] += 1.0
        decoded = client.post("/api/models/full-16d/decode", json={"points": [z, centre]}).json()["images"]
        assert torch.allclose(pixels_of(row["images"][3]), pixels_of(decoded[0]), atol=1 / 255)
        assert torch.allclose(pixels_of(row["images"][2]), pixels_of(decoded[1]), atol=1 / 255)


def test_the_centre_is_the_named_encoding(
    client: TestClient, wide: tuple[torch.Tensor, torch.Tensor]
) -> None:
    body = client.post("/api/models/full-16d/traversal", json={"centre": {"index": 7}, "rows": 1}).json()
    assert body["centre"] == pytest.approx(wide[0][7].tolist(), abs=1e-5)


def test_a_bad_traversal_request_says_what_was_wrong(client: TestClient) -> None:
    missing = client.post("/api/models/full-16d/traversal", json={"centre": {"index": 10_000}})
    assert missing.status_code == 404 and missing.json()["detail"] == "centre: no test image 10000 (0..9999)"
    short = client.post("/api/models/full-16d/traversal", json={"centre": {"z": [0.0, 0.0]}})
    assert short.status_code == 422
    assert short.json()["detail"] == "centre.z: z has 2 values; this model's latent_dim is 16"
    for body, message in (
        ({"rows": 0}, "rows"),
        ({"rows": 65}, "rows"),
        ({"steps": 1}, "steps"),
        ({"extent": 0}, "extent"),
        ({"extent": "3"}, "extent"),
    ):
        response = client.post("/api/models/full-16d/traversal", json=body)
        assert response.status_code == 422 and message in response.json()["detail"], body
