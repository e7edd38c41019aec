"""/api/models/{id}/arithmetic: attribute vectors between groups, added to an encoding."""

from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from model.classifier import classify, load_classifier
from model.data import ImageSet
from model.home import classifier_folder
from tests.app.images import pixels_of
from tests.conftest import posterior_means


@pytest.fixture(scope="module")
def mu(quick_zoo: Path, test_set: ImageSet) -> torch.Tensor:
    """full-16d's posterior means of the test split."""
    return posterior_means(quick_zoo, "full-16d", test_set)


def test_adding_the_one_minus_zero_vector_turns_a_zero_into_a_one(
    client: TestClient, quick_zoo: Path, test_set: ImageSet, mu: torch.Tensor
) -> None:
    body = client.post(
        "/api/models/full-16d/arithmetic",
        json={"a": {"label": "1"}, "b": {"label": "0"}, "to": {"label": "0"}, "strength": 1, "steps": 5},
    ).json()
    labels = test_set.labels
    vector = mu[labels == 1].mean(dim=0) - mu[labels == 0].mean(dim=0)
    assert body["vector"] == pytest.approx(vector.tolist(), abs=1e-4)
    assert body["norm"] == pytest.approx(float(vector.norm()), abs=1e-4)
    assert body["a_count"] == int((labels == 1).sum()) and body["b_count"] == int((labels == 0).sum())
    assert body["strengths"] == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert torch.tensor(body["z"][-1]) - torch.tensor(body["z"][0]) == pytest.approx(vector, abs=1e-4)
    judge = load_classifier(classifier_folder(quick_zoo, "mnist")).network
    with torch.inference_mode():
        predicted, _ = classify(judge, torch.stack([pixels_of(image) for image in body["images"]]))
    assert int(predicted[0]) == 0 and int(predicted[-1]) == 1


def test_a_selection_is_a_group_like_a_class(client: TestClient, test_set: ImageSet) -> None:
    ones = (test_set.labels == 1).nonzero().flatten().tolist()
    request = {"b": {"label": "0"}, "to": {"index": 3}, "strength": -2, "steps": 3}
    by_class = client.post("/api/models/full-16d/arithmetic", json={"a": {"label": "1"}, **request}).json()
    by_selection = client.post(
        "/api/models/full-16d/arithmetic", json={"a": {"indices": ones}, **request}
    ).json()
    assert by_selection["vector"] == pytest.approx(by_class["vector"], abs=1e-5)
    assert by_selection["strengths"] == pytest.approx([0, -1, -2])


def test_bad_arithmetic_says_what_was_wrong(client: TestClient) -> None:
    good = {"a": {"label": "1"}, "b": {"label": "0"}, "to": {"index": 3}}
    cases = [
        ({**good, "a": {"label": "x"}}, 422, "a.label: 'x' is not a class of this model's data (0, 1, 2, 3"),
        ({**good, "b": {"indices": [5, 10_000]}}, 404, "b.indices: no test image 10000 (0..9999)"),
        ({**good, "to": {"index": 10_000}}, 404, "to: no test image 10000 (0..9999)"),
        ({**good, "a": {"label": "1", "indices": [1]}}, 422, "give exactly one of label or indices"),
        ({**good, "strength": 6}, 422, "strength"),
    ]
    for body, status, message in cases:
        response = client.post("/api/models/full-16d/arithmetic", json=body)
        assert response.status_code == status and message in response.json()["detail"], body
