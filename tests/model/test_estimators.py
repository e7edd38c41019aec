from pathlib import Path

import pytest
import torch

from model.checkpoint import load_network
from model.data import ImageSet
from model.estimators import compare_estimators


@pytest.fixture(scope="module")
def comparison(tiny_model: Path, test_set: ImageSet) -> dict:  # type: ignore[type-arg]
    _, network = load_network(tiny_model)
    x = test_set.head(4).pixels()
    return compare_estimators(network, x, sample_counts=(1, 10, 100), repetitions=200, seed=0)


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
    _, network = load_network(tiny_model)
    with pytest.raises(ValueError, match="between 1 and 1000"):
        compare_estimators(network, torch.zeros(1, 784), sample_counts=(0, 5000))


def test_a_collapsed_posterior_variance_keeps_every_estimate_finite(
    tiny_model: Path, test_set: ImageSet
) -> None:
    """A reconstruction-only model drives logvar to -125, where sigma^2 underflows to 0 in float32 and
    (z - mu)^2 / sigma^2 would be 0 / 0: log q is computed from eps instead."""
    from model.metrics import importance_weighted_log_likelihood

    _, network = load_network(tiny_model)
    with torch.no_grad():
        network.posterior_head.bias[network.latent_dim :] -= 150.0  # the logvar half of the head
    x = test_set.head(4).pixels()
    with torch.no_grad():
        assert float(network.encode(x).logvar.max()) < -104  # exp(logvar) is 0 in float32
    assert torch.isfinite(torch.tensor(importance_weighted_log_likelihood(network, x, k=10)))
    result = compare_estimators(network, x, sample_counts=(1, 10), repetitions=5, seed=0)
    for name in ("reparam", "score"):
        assert all(torch.isfinite(stats.mean).all() for stats in result[name]), name
        assert all(stats.variance == stats.variance for stats in result[name]), name


def test_the_encoder_weights_gradient_keeps_both_properties(comparison: dict) -> None:  # type: ignore[type-arg]
    """Through the encoder's Jacobian: the two means still agree, and reparametrization still wins."""
    reparam, score = comparison["reparam"], comparison["score"]
    assert torch.corrcoef(torch.stack([reparam[2].encoder_mean, score[2].encoder_mean]))[0, 1] > 0.9
    for r, s in zip(reparam, score, strict=True):
        assert 0 < r.encoder_variance * 10 < s.encoder_variance, (r.samples, r.encoder_variance)
    assert reparam[0].encoder_variance > 4 * reparam[1].encoder_variance  # and falls with S


def test_the_encoder_gradient_is_the_chain_rule_of_the_latent_one(
    tiny_model: Path, test_set: ImageSet
) -> None:
    """With S large, the reparametrised encoder gradient equals autograd's gradient of the ELBO estimate
    on the same draws: here checked against a direct backward pass with one shared eps."""
    _, network = load_network(tiny_model)
    x = test_set.head(3).pixels()
    result = compare_estimators(network, x, sample_counts=(1000,), repetitions=2, seed=3)["reparam"][0]
    posterior = network.encode(x)
    eps = torch.randn((4000, *posterior.mu.shape), generator=torch.Generator().manual_seed(7))
    z = posterior.mu + posterior.sigma * eps
    from model.likelihoods import Bernoulli
    from model.vae import prior_log_prob

    elbo = Bernoulli().log_prob(network.decode(z), x) + prior_log_prob(z) - posterior.log_prob_of_noise(eps)
    parameters = [*network.encoder.parameters(), *network.posterior_head.parameters()]
    direct = torch.cat([g.flatten() for g in torch.autograd.grad(elbo.mean(0).sum(), parameters)])
    assert torch.nn.functional.cosine_similarity(direct, result.encoder_mean, dim=0) > 0.99
