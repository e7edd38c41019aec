"""Per-point metrics of the quick zoo's 16-D model against independent computations: torch.distributions'
KL and entropy, the evaluation's ELBO and importance-weighted bound (means over the same images), the
ELBO's own parts, and the cache."""

from pathlib import Path

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from model.data import ImageSet
from model.inference import LoadedModel
from model.metrics import elbo_metrics, importance_weighted_log_likelihoods
from model.point_metrics import (
    POINT_METRICS,
    MetricsKey,
    percentile,
    point_metrics,
    read_metrics,
    split_metrics,
    write_metrics,
)

IMAGES = 2000


@pytest.fixture(scope="module")
def model(quick_zoo: Path) -> LoadedModel:
    return LoadedModel.load(quick_zoo / "models" / "full-16d", "cpu")


@pytest.fixture(scope="module")
def measured(model: LoadedModel, test_set: ImageSet) -> dict[str, torch.Tensor]:
    return point_metrics(model.network, test_set.head(IMAGES).pixels())


def test_kl_and_entropy_are_those_of_torch_distributions(
    model: LoadedModel, test_set: ImageSet, measured: dict[str, torch.Tensor]
) -> None:
    with torch.inference_mode():
        posterior = model.network.encode(test_set.head(IMAGES).pixels())
    q = Normal(posterior.mu, posterior.sigma)
    assert torch.allclose(measured["kl"], kl_divergence(q, Normal(0.0, 1.0)).sum(dim=1), atol=1e-3)
    assert torch.allclose(measured["entropy"], q.entropy().sum(dim=1), atol=1e-3)


def test_means_match_the_evaluations_elbo_and_importance_weighted_bound(
    model: LoadedModel, test_set: ImageSet, measured: dict[str, torch.Tensor]
) -> None:
    x = test_set.head(IMAGES).pixels()
    evaluation = elbo_metrics(model.network, x, samples=20, seed=7)
    assert float(measured["elbo"].mean()) == pytest.approx(-evaluation.neg_elbo, abs=0.3)
    assert float(measured["reconstruction"].mean()) == pytest.approx(evaluation.reconstruction_nll, abs=0.3)
    bounds = importance_weighted_log_likelihoods(model.network, x, k=50, seed=7)
    assert float(measured["log_px"].mean()) == pytest.approx(float(bounds.mean()), abs=0.3)


def test_the_elbo_is_its_parts_and_sits_below_the_bound(measured: dict[str, torch.Tensor]) -> None:
    assert torch.allclose(measured["elbo"], -measured["reconstruction"] - measured["kl"], atol=1e-4)
    assert float((measured["log_px"] - measured["elbo"]).mean()) > 0  # IWAE >= ELBO, on average per image
    assert set(measured) == set(POINT_METRICS) and all(len(v) == IMAGES for v in measured.values())


def test_a_split_measured_in_chunks_is_measured_as_a_whole(
    model: LoadedModel, test_set: ImageSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("model.point_metrics.PIXEL_CHUNK", 500)  # the claim at a tenth of the work
    images = test_set.head(600)  # past one chunk
    done: list[int] = []
    chunked = split_metrics(model.network, images, on_batch=done.append)
    assert done[-1] == 600 and done == sorted(done)
    whole = point_metrics(model.network, images.images[500:].reshape(100, -1).float() / 255)
    assert torch.allclose(chunked["kl"][500:], whole["kl"], atol=1e-5)


def test_percentile_counts_the_values_below_and_half_the_ties() -> None:
    values = torch.tensor([1.0, 2.0, 2.0, 3.0])
    assert percentile(values, 0.0) == 0.0 and percentile(values, 9.0) == 100.0
    assert percentile(values, 2.0) == pytest.approx(50.0)


def test_cached_metrics_are_read_back_whole_and_only_for_their_key(tmp_path: Path) -> None:
    key = MetricsKey(weights="w", dataset="mnist", split="test", points=3, binarized=False)
    values = {name: torch.arange(3, dtype=torch.float32) + i for i, name in enumerate(POINT_METRICS)}
    assert read_metrics(tmp_path, key) is None
    write_metrics(tmp_path, key, values)
    read = read_metrics(tmp_path, key)
    assert read is not None and all(torch.equal(read[name], values[name]) for name in POINT_METRICS)
    assert [p.name for p in (tmp_path / "point-metrics").iterdir()] == ["test.safetensors"]
    for other in ({"weights": "retrained"}, {"binarized": True}, {"k": 5000}):
        assert read_metrics(tmp_path, MetricsKey(**{**vars(key), **other})) is None
