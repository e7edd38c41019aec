import math

import pytest
import torch
from torch import distributions

from model.likelihoods import (
    LEVELS,
    MIN_LOG_SCALE,
    Bernoulli,
    ContinuousBernoulli,
    DiscretizedLogistic,
    Gaussian,
    GaussianLearned,
    Likelihood,
    likelihood_of,
)

V = 12  # values per image


def _random(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _levels(seed: int, *shape: int) -> torch.Tensor:
    """8-bit intensities k / 255, the edges 0 and 1 among them."""
    k = torch.randint(0, LEVELS + 1, shape, generator=torch.Generator().manual_seed(seed))
    k[..., 0], k[..., 1] = 0, LEVELS
    return k.float() / LEVELS


def test_bernoulli_matches_torch_distributions_on_binary_images() -> None:
    logits, x = 3 * _random(0, 5, V), _levels(1, 5, V).round()
    expected = distributions.Bernoulli(logits=logits).log_prob(x).sum(dim=-1)
    assert torch.allclose(Bernoulli().log_prob(logits, x), expected, atol=1e-5)


def test_bernoulli_scores_grey_levels_as_the_cross_entropy() -> None:
    x, logits = torch.tensor([[1.0, 0.0, 0.5]]), torch.tensor([[0.0, 2.0, -1.0]])
    p = [0.5, 1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(1.0))]
    by_hand = math.log(p[0]) + math.log(1 - p[1]) + 0.5 * math.log(p[2]) + 0.5 * math.log(1 - p[2])
    assert Bernoulli().log_prob(logits, x).item() == pytest.approx(by_hand, rel=1e-6)


def test_bernoulli_stays_finite_where_the_sigmoid_saturates() -> None:
    saturated = Bernoulli().log_prob(torch.tensor([[-200.0]]), torch.tensor([[1.0]]))
    assert saturated.item() == pytest.approx(-200.0)


def test_continuous_bernoulli_is_the_bernoulli_made_a_density_by_its_constant() -> None:
    """log p(x) = x log l + (1 - x) log(1 - l) + log C(l), C(l) = 2 atanh(1 - 2l) / (1 - 2l) (Loaiza-Ganem &
    Cunningham, 2019, Eq. 7), written out here; and a density: it integrates to 1 over [0, 1]."""
    probs = torch.tensor([[0.05, 0.3, 0.7, 0.97]], dtype=torch.float64)
    x = torch.tensor([[0.2, 0.9, 0.5, 1.0]])
    constant = 2 * torch.atanh(1 - 2 * probs) / (1 - 2 * probs)
    by_hand = (x * probs.log() + (1 - x) * torch.log1p(-probs) + constant.log()).sum()
    logits = (probs.log() - torch.log1p(-probs)).float()
    assert ContinuousBernoulli().log_prob(logits, x).item() == pytest.approx(by_hand.item(), rel=1e-5)
    grid = torch.linspace(0, 1, 20_001)[:, None]
    density = ContinuousBernoulli().log_prob(torch.tensor([[1.5]]), grid).exp()
    assert torch.trapezoid(density, grid[:, 0]).item() == pytest.approx(1.0, abs=1e-4)


def test_fixed_gaussian_matches_torch_distributions() -> None:
    mean, x = torch.sigmoid(_random(2, 5, V)), _levels(3, 5, V)
    expected = distributions.Normal(mean, 0.2).log_prob(x).sum(dim=-1)
    assert torch.allclose(Gaussian(0.2).log_prob(mean, x), expected, atol=1e-4)


def test_learned_gaussian_matches_torch_distributions() -> None:
    mean, log_scale, x = torch.sigmoid(_random(4, 5, V)), _random(5, 5, V) - 2, _levels(6, 5, V)
    expected = distributions.Normal(mean, log_scale.exp()).log_prob(x).sum(dim=-1)
    got = GaussianLearned().log_prob(torch.cat([mean, log_scale], dim=-1), x)
    assert torch.allclose(got, expected, atol=1e-4)


def test_learned_gaussian_keeps_its_scale_above_the_floor() -> None:
    """A pixel that never changes would otherwise have a density growing without bound as sigma -> 0."""
    x = torch.zeros(1, 1)
    tiny = GaussianLearned().log_prob(torch.tensor([[0.0, -50.0]]), x)
    at_floor = distributions.Normal(0.0, math.exp(MIN_LOG_SCALE)).log_prob(torch.tensor(0.0))
    assert tiny.item() == pytest.approx(at_floor.item(), rel=1e-5)


def _logistic_cdf(t: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The logistic's CDF built from torch.distributions' parts, independently of the likelihood's code."""
    logistic = distributions.TransformedDistribution(
        distributions.Uniform(torch.zeros_like(mean).double(), torch.ones_like(mean).double()),
        [distributions.SigmoidTransform().inv, distributions.AffineTransform(mean.double(), scale.double())],
    )
    return logistic.cdf(t.double().clamp(-1e6, 1e6))


def test_discretized_logistic_is_the_logistic_mass_of_each_bin() -> None:
    # Scales wide enough that the reference's difference of two CDFs does not round to 0 in float64
    generator = torch.Generator().manual_seed(7)
    mean = torch.rand((5, V), generator=generator)
    scale = torch.rand((5, V), generator=generator) * 0.2 + 0.05
    x = _levels(7, 5, V)
    half = 0.5 / LEVELS
    upper = torch.where(x > 1 - half, torch.full_like(x, math.inf), x + half)
    lower = torch.where(x < half, torch.full_like(x, -math.inf), x - half)
    mass = _logistic_cdf(upper, mean, scale) - _logistic_cdf(lower, mean, scale)
    got = DiscretizedLogistic().log_prob(torch.cat([mean, scale.log()], dim=-1), x)
    assert torch.allclose(got.double(), mass.log().sum(dim=-1), atol=1e-3)


def test_discretized_logistic_masses_sum_to_one_over_the_levels() -> None:
    mean, log_scale = torch.tensor([[-0.2, 0.37, 1.1]]), torch.tensor([[-6.0, -2.0, 1.0]])
    levels = (torch.arange(LEVELS + 1).float() / LEVELS)[:, None].expand(-1, 3)
    params = torch.cat([mean, log_scale], dim=-1)
    per_value = torch.stack(
        [DiscretizedLogistic().log_prob(params[:, [i, 3 + i]], levels[:, [i]]) for i in range(3)]
    )
    assert torch.allclose(per_value.exp().sum(dim=1), torch.ones(3, dtype=per_value.dtype), atol=1e-4)


def test_discretized_logistic_stays_finite_far_from_the_mean() -> None:
    """A sharp logistic far from the pixel: the difference of two CDFs would round to 0 (log = -inf)."""
    params = torch.tensor([[0.9, math.log(0.001)]])
    got = DiscretizedLogistic().log_prob(params, torch.tensor([[0.1]]))
    assert torch.isfinite(got).all() and got.item() < -500


LIKELIHOODS: list[Likelihood] = [
    Bernoulli(),
    ContinuousBernoulli(),
    Gaussian(0.05),
    GaussianLearned(),
    DiscretizedLogistic(),
]


@pytest.mark.parametrize("likelihood", LIKELIHOODS, ids=lambda likelihood: likelihood.name)
def test_samples_average_to_the_mean_image(likelihood: Likelihood) -> None:
    mean = torch.linspace(0.2, 0.8, V)
    if likelihood.outputs_per_value == 2:
        params = torch.cat([mean, torch.full((V,), math.log(0.05))])
    elif isinstance(likelihood, Bernoulli):
        params = torch.log(mean) - torch.log1p(-mean)
    elif isinstance(likelihood, ContinuousBernoulli):  # a mean is reached through the logit found for it
        params = likelihood.constant_fit(mean[None])
    else:
        params = mean
    draws = likelihood.sample(params.expand(20_000, -1), torch.Generator().manual_seed(8))
    assert torch.allclose(likelihood.mean(params), mean, atol=1e-6)
    assert torch.allclose(draws.mean(dim=0), mean, atol=0.01)


@pytest.mark.parametrize("likelihood", LIKELIHOODS, ids=lambda likelihood: likelihood.name)
def test_the_constant_fit_beats_its_neighbours(likelihood: Likelihood) -> None:
    """A decoder that ignores z can do no better than the fitted constant: nudging it lowers the likelihood
    of the images it was fitted to (for the logistic, fitted by its moments, not by much)."""
    x = _levels(9, 400, V)
    fitted = likelihood.constant_fit(x)
    best = likelihood.log_prob(fitted, x).mean()
    for seed in range(5):
        nudged = fitted + 0.05 * _random(seed, *fitted.shape)
        assert likelihood.log_prob(nudged, x).mean() < best + (0.05 if likelihood.discrete else 0.0)


def test_each_likelihood_is_rebuilt_from_its_spec() -> None:
    for likelihood in LIKELIHOODS:
        assert likelihood_of(**likelihood.spec()) == likelihood


@pytest.mark.parametrize(
    ("name", "scale", "message"),
    [
        (
            "poisson",
            None,
            "likelihood must be one of bernoulli, continuous-bernoulli, gaussian, gaussian-learned, "
            "logistic, got 'poisson'",
        ),
        ("gaussian", 0.0, "a Gaussian likelihood's scale must be a number > 0, got 0.0"),
        ("gaussian", math.nan, "a Gaussian likelihood's scale must be a number > 0, got nan"),
        ("bernoulli", 0.1, "a scale is declared only for the 'gaussian' likelihood, not 'bernoulli'"),
    ],
)
def test_bad_likelihoods_are_named(name: str, scale: float | None, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        likelihood_of(name, scale)
    assert str(raised.value) == message
