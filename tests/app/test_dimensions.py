"""A model's latent dimensions and one dimension's profile, against the quick zoo's encodings computed
here: the dimensions in KL order, the extremes are the encodings' extremes, a traversal of chosen
dimensions, and the refusals."""

from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from model.data import ImageSet
from tests.conftest import posteriors


@pytest.fixture(scope="module")
def full_16d(quick_zoo: Path, test_set: ImageSet) -> tuple[torch.Tensor, torch.Tensor]:
    return posteriors(quick_zoo, "full-16d", test_set)


def test_dimensions_come_in_order_of_their_kl(
    client: TestClient, full_16d: tuple[torch.Tensor, torch.Tensor]
) -> None:
    body = client.get("/api/models/full-16d/dimensions").json()
    mu, logvar = full_16d
    kl = (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).mean(dim=0)
    assert [d["dim"] for d in body["dimensions"]] == kl.argsort(descending=True).tolist()
    assert [d["kl"] for d in body["dimensions"]] == pytest.approx(
        kl.sort(descending=True).values.tolist(), abs=1e-3
    )
    assert body["active_units"] == sum(d["active"] for d in body["dimensions"])
    assert body["dimensions"][0]["name"] == f"z{body['dimensions'][0]['dim'] + 1}"


def test_a_dimension_s_extremes_are_the_extremes_of_the_encodings(
    client: TestClient, full_16d: tuple[torch.Tensor, torch.Tensor], test_set: ImageSet
) -> None:
    listed = client.get("/api/models/full-16d/dimensions").json()["dimensions"]
    top = listed[0]["dim"]
    body = client.get(f"/api/models/full-16d/dimensions/{top}").json()
    values = full_16d[0][:, top]
    assert [image["index"] for image in body["highest"]] == values.topk(8).indices.tolist()
    assert [image["index"] for image in body["lowest"]] == (-values).topk(8).indices.tolist()
    assert body["highest"][0]["value"] == pytest.approx(float(values.max()), abs=1e-4)
    assert body["rank"] == 1 and body["dimension"]["dim"] == top and body["dataset"] == "mnist"
    assert body["factor_information"] == []  # MNIST's factors are not known
    assert sum(body["kl_counts"]) == len(test_set)
    r = {c["name"]: c["r"] for c in body["class_correlation"]}
    for label in range(10):
        expected = torch.corrcoef(torch.stack([values, (test_set.labels == label).float()]))[0, 1]
        assert r[str(label)] == pytest.approx(float(expected), abs=1e-4)


def test_a_traversal_of_chosen_dimensions_and_the_refusals(client: TestClient) -> None:
    body = client.post("/api/models/full-16d/traversal", json={"dims": [5, 2], "steps": 3}).json()
    assert [row["dim"] for row in body["rows"]] == [5, 2] and len(body["rows"][0]["images"]) == 3
    out = client.post("/api/models/full-16d/traversal", json={"dims": [16]})
    assert out.status_code == 422 and out.json()["detail"] == "dims: dimension 16 is out of range (0..15)"
    missing = client.get("/api/models/full-16d/dimensions/16")
    assert missing.status_code == 404 and missing.json()["detail"] == "full-16d has no dimension 16 (0..15)"
    assert client.get("/api/models/full-16d/dimensions/-1").status_code == 422
