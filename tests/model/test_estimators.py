from pathlib import Path

import pytest
import torch

from model.checkpoint import load_vae
from model.data import Digits
from model.estimators import compare_estimators


@pytest.fixture(scope="module")
def comparison(tiny_model: Path, test_digits: Digits) -> dict:  # type: ignore[type-arg]
    _, vae = load_vae(tiny_model)
    x = test_digits.head(4).pixels()
    return compare_estimators(vae, x, sample_counts=(1, 10, 100), repetitions=200, seed=0)


def test_both_estimators_are_unbiased(comparison: dict) -> None:  # type: ignore[type-arg]
    """At S=100 the two means agree within their error bars (the reparametrised one is nearly exact)."""
    reparam, score = comparison["reparam"][2], comparison["score"][2]
    difference = (reparam.mean - score.mean).abs()
    error = (reparam.standard_error.pow(2) + score.standard_error.pow(2)).sqrt()
    within = (difference <= 4 * error).float().mean().item()
    assert within >= 0.95, f"only {within:.0%} of gradient components agree within 4 standard errors"
    assert torch.corrcoef(torch.stack([reparam.mean.flatten(), score.mean.flatten()]))[0, 1] > 0.9


def test_reparametrization_has_far_lower_variance(comparison: dict) -> None:  # type: ignore[type-arg]
    for reparam, score in zip(comparison["reparam"], comparison["score"], strict=True):
        assert reparam.variance * 10 < score.variance, (reparam.samples, reparam.variance, score.variance)


def test_variance_falls_as_one_over_s(comparison: dict) -> None:  # type: ignore[type-arg]
    for name in ("reparam", "score"):
        one, ten, hundred = (stats.variance for stats in comparison[name])
        assert 4 < one / ten < 25 and 4 < ten / hundred < 25, (name, one, ten, hundred)


def test_bad_sample_counts_are_refused(tiny_model: Path) -> None:
    _, vae = load_vae(tiny_model)
    with pytest.raises(ValueError, match="between 1 and 1000"):
        compare_estimators(vae, torch.zeros(1, 784), sample_counts=(0, 5000))
