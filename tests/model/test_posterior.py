"""The exact posterior of 2-D models by quadrature: against a closed form, converged under refinement, and
above the two bounds on real digits."""

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from model import posterior
from model.checkpoint import load_network
from model.data import ImageSet
from model.home import models_root
from model.likelihoods import Gaussian, Likelihood
from model.metrics import elbo_metrics, importance_weighted_log_likelihood
from model.posterior import (
    TOLERANCE,
    exact_log_likelihoods,
    exact_posterior,
    exact_posteriors,
    integrate,
    pointwise,
)
from model.vae import DiagonalGaussian, LatentModel, prior_log_prob


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


class OrthogonalLinearGaussian(LatentModel):
    """z ~ N(0, I), x|z ~ N(W z + b, noise^2 I) with orthogonal columns of W: the posterior is a diagonal
    Gaussian in closed form, so an encoder can give it exactly (`widen` = 1) or too wide."""

    def __init__(self, pixels: int, noise: float, widen: float, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(pixels, 2, generator=generator))
        self.weight = nn.Parameter(q * torch.tensor([2.0, 0.7]))
        self.bias = nn.Parameter(torch.rand(pixels, generator=generator))
        self.noise, self.widen = noise, widen

    @property
    def latent_dim(self) -> int:
        return 2

    @property
    def likelihood(self) -> Likelihood:
        return Gaussian(self.noise)

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        precision = 1 + self.weight.pow(2).sum(dim=0) / self.noise**2  # W^T W is diagonal
        mu = (x - self.bias) @ self.weight / self.noise**2 / precision
        return DiagonalGaussian(mu, (self.widen**2 / precision).log().expand_as(mu))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.weight.T + self.bias

    def encoder_parameters(self) -> list[nn.Parameter]:
        return [self.weight, self.bias]

    def evidence(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = log N(x; b, W W^T + noise^2 I)."""
        weight, bias = self.weight.detach().double(), self.bias.detach().double()
        covariance = weight @ weight.T + self.noise**2 * torch.eye(len(bias), dtype=torch.float64)
        return torch.distributions.MultivariateNormal(bias, covariance_matrix=covariance).log_prob(x.double())


def test_a_gaussian_likelihoods_evidence_and_bounds_match_the_closed_form() -> None:
    """Through the model's likelihood: quadrature gives log p(x) of the closed form; an encoder giving the
    exact posterior makes ELBO = IWAE = log p(x) (every importance weight is p(x), so the gap
    KL(q || p(z|x)) is 0); a wider one puts ELBO < IWAE < log p(x)."""
    exact_encoder = OrthogonalLinearGaussian(pixels=30, noise=0.15, widen=1.0, seed=4)
    x = exact_encoder.decode(torch.randn(60, 2, generator=torch.Generator().manual_seed(5))).detach()
    x = x + 0.15 * torch.randn(x.shape, generator=torch.Generator().manual_seed(6))
    evidence = exact_encoder.evidence(x)
    quadrature = exact_log_likelihoods(exact_encoder, x)
    assert torch.allclose(quadrature, evidence, atol=TOLERANCE)
    truth = float(evidence.mean())
    # Each log weight is log p(x) itself: the bound at k = 1 is exact; the ELBO's Monte Carlo term is close
    assert importance_weighted_log_likelihood(exact_encoder, x, k=1) == pytest.approx(truth, abs=1e-3)
    assert -elbo_metrics(exact_encoder, x, samples=4000).neg_elbo == pytest.approx(truth, abs=0.02)
    # q 1.6 times wider than p(z|x): bounded weights, so the IWAE estimate's noise is small (~0.005 nats
    # here) and its mean sits on log p(x), well above the ELBO
    wide = OrthogonalLinearGaussian(pixels=30, noise=0.15, widen=1.6, seed=4)
    elbo = -elbo_metrics(wide, x, samples=200).neg_elbo
    iwae = importance_weighted_log_likelihood(wide, x, k=500)
    assert elbo < iwae - 0.3 and iwae == pytest.approx(truth, abs=0.02), (elbo, iwae, truth)
