"""The exact posterior of 2-D models by quadrature: against a closed form, converged under refinement, and
above the two bounds on real digits."""

import math
from pathlib import Path

import pytest
import torch

from model import posterior
from model.checkpoint import load_network
from model.data import ImageSet
from model.home import models_root
from model.metrics import elbo_metrics, importance_weighted_log_likelihood
from model.posterior import TOLERANCE, exact_posterior, exact_posteriors, integrate, pointwise
from model.vae import prior_log_prob


def _linear_gaussian(pixels: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """x, weight, bias, noise of z ~ N(0, I), x|z ~ N(weight z + bias, noise^2 I), x drawn from it."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(pixels, 2, generator=generator, dtype=torch.float64)
    bias = torch.randn(pixels, generator=generator, dtype=torch.float64)
    noise = 0.3
    z = torch.randn(2, generator=generator, dtype=torch.float64)
    x = weight @ z + bias + noise * torch.randn(pixels, generator=generator, dtype=torch.float64)
    return x, weight, bias, noise


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quadrature_matches_the_linear_gaussian_closed_form(seed: int) -> None:
    """x ~ N(bias, weight weight^T + noise^2 I) exactly; the posterior is narrow (noise 0.3, 20 pixels)."""
    x, weight, bias, noise = _linear_gaussian(20, seed)

    def log_joint(z: torch.Tensor) -> torch.Tensor:
        mean = z.double() @ weight.T + bias
        log_likelihood = -0.5 * (((x - mean) / noise) ** 2 + math.log(2 * math.pi * noise**2)).sum(dim=-1)
        return log_likelihood + prior_log_prob(z.double())

    covariance = weight @ weight.T + noise**2 * torch.eye(len(x), dtype=torch.float64)
    exact = float(torch.distributions.MultivariateNormal(bias, covariance_matrix=covariance).log_prob(x))
    found = integrate(pointwise(log_joint), torch.tensor([-6.0, -6.0]), torch.tensor([6.0, 6.0]))
    assert found.log_evidence == pytest.approx(exact, abs=TOLERANCE)
    assert found.change <= TOLERANCE
    area = float((found.x[1] - found.x[0]) * (found.y[1] - found.y[0]))
    assert float(found.density.sum()) * area == pytest.approx(1.0, abs=0.01)  # a density over the plane


def test_refinement_converges_on_a_real_digit(
    quick_zoo: Path, test_set: ImageSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Integrating on a grid four times finer changes log p(x) by less than the tolerance."""
    _, network = load_network(models_root(quick_zoo) / "full-2d")
    image = test_set.head(1).pixels()[0]
    found = exact_posterior(network, image)
    assert found.change <= TOLERANCE
    monkeypatch.setattr(posterior, "FINE_INTERVALS", 4 * posterior.FINE_INTERVALS)
    finer = exact_posterior(network, image)
    assert len(finer.x) > 2 * len(found.x)
    assert finer.log_evidence == pytest.approx(found.log_evidence, abs=TOLERANCE)


@pytest.mark.parametrize("model_id", ["full-2d", "recon-2d"])
def test_the_bounds_sit_below_the_exact_evidence(model_id: str, quick_zoo: Path, test_set: ImageSet) -> None:
    """ELBO <= IWAE <= log p(x) on real digits, for a model trained with the prior and one without. On
    one digit an IWAE estimate may land above log p(x) (its weights are heavy-tailed where q is narrower
    than the posterior: k = 5,000 still moves by +-0.5 nats between seeds); its mean over digits may not."""
    _, network = load_network(models_root(quick_zoo) / model_id)
    x = test_set.head(32).pixels()
    found = exact_posteriors(network, x)
    exact = [quadrature.log_evidence for quadrature in found]
    elbo = -elbo_metrics(network, x, samples=100).neg_elbo
    iwae = importance_weighted_log_likelihood(network, x, k=500)
    assert elbo < iwae < sum(exact) / len(exact), (elbo, iwae, exact)
    assert max(quadrature.nodes for quadrature in found) < 100_000  # the grid stays a grid, not a sweep
