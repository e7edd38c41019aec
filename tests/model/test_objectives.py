import math
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_history, load_info, load_network
from model.config import ModelConfig, TrainConfig
from model.data import Dataset, ImageSet
from model.likelihoods import Bernoulli
from model.objectives import objective, total_correlation
from model.vae import VAE, DiagonalGaussian, prior_log_prob
from tests.conftest import train_tiny


def test_analytic_kl_matches_monte_carlo() -> None:
    generator = torch.Generator().manual_seed(0)
    posterior = DiagonalGaussian(
        mu=torch.tensor([[0.5, -1.2, 2.0]]), logvar=torch.tensor([[-1.0, 0.3, -2.5]])
    )
    z = posterior.mu + posterior.sigma * torch.randn((200_000, 3), generator=generator)
    monte_carlo = (posterior.log_prob(z) - prior_log_prob(z)).mean()
    assert posterior.kl().item() == pytest.approx(monte_carlo.item(), abs=0.02)
    assert posterior.kl_per_dim().sum().item() == pytest.approx(posterior.kl().item())


def test_kl_is_zero_only_at_the_prior() -> None:
    at_prior = DiagonalGaussian(mu=torch.zeros(1, 4), logvar=torch.zeros(1, 4))
    off_prior = DiagonalGaussian(mu=torch.full((1, 4), 0.1), logvar=torch.zeros(1, 4))
    assert at_prior.kl().item() == 0.0
    assert off_prior.kl().item() == pytest.approx(4 * 0.5 * 0.01)


def test_gradients_reach_mu_and_logvar_through_the_reparametrization() -> None:
    mu = torch.tensor([[0.3, -0.7]], requires_grad=True)
    logvar = torch.tensor([[0.2, -1.0]], requires_grad=True)
    generator = torch.Generator().manual_seed(1)
    z = DiagonalGaussian(mu, logvar).sample(generator)
    z.sum().backward()
    eps = torch.randn((1, 2), generator=torch.Generator().manual_seed(1))
    assert mu.grad is not None and logvar.grad is not None
    assert torch.allclose(mu.grad, torch.ones(1, 2))
    # dz/dlogvar = 0.5 * sigma * eps
    assert torch.allclose(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)


def _gradients(network: VAE, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    network.zero_grad(set_to_none=False)
    loss.backward()
    return {name: p.grad.clone() for name, p in network.named_parameters() if p.grad is not None}


def _reference_terms(
    network: VAE, x: torch.Tensor, seed: int, detach_z: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    posterior = network.encode(x)
    z = posterior.sample(torch.Generator().manual_seed(seed))
    z = z.detach() if detach_z else z
    return Bernoulli().log_prob(network.decode(z), x).mean(), posterior.kl().mean()


@pytest.mark.parametrize(
    ("config", "reconstruction_weight", "kl_weight"),
    [
        (TrainConfig(loss="full"), 1.0, 1.0),
        (TrainConfig(loss="beta", beta=0.25), 1.0, 0.25),
        (TrainConfig(loss="recon"), 1.0, 0.0),
    ],
)
def test_each_loss_mode_uses_exactly_its_terms(
    config: TrainConfig, reconstruction_weight: float, kl_weight: float
) -> None:
    torch.manual_seed(0)
    network = VAE(ModelConfig(latent_dim=3, hidden=(16,)))
    x = torch.rand(8, 784)
    got = _gradients(network, objective(network, x, config, torch.Generator().manual_seed(5)).loss.mean())
    reconstruction, kl = _reference_terms(network, x, seed=5, detach_z=False)
    expected = _gradients(network, kl_weight * kl - reconstruction_weight * reconstruction)
    assert got.keys() == expected.keys()
    for name in got:
        assert torch.allclose(got[name], expected[name], atol=1e-6), name


def test_kl_mode_shapes_the_encoder_by_kl_alone() -> None:
    torch.manual_seed(0)
    network = VAE(ModelConfig(latent_dim=3, hidden=(16,)))
    x = torch.rand(8, 784)
    got = _gradients(
        network, objective(network, x, TrainConfig(loss="kl"), torch.Generator().manual_seed(5)).loss.mean()
    )
    reconstruction, kl = _reference_terms(network, x, seed=5, detach_z=True)
    kl_only = _gradients(network, kl)
    decoder_fit = _gradients(network, -reconstruction)
    for name, grad in got.items():
        expected = decoder_fit[name] if name.startswith("decoder") else kl_only[name]
        assert torch.allclose(grad, expected, atol=1e-6), name
    assert any(name.startswith("encoder") and grad.abs().sum() > 0 for name, grad in got.items())


def test_beta_needs_beta_mode() -> None:
    with pytest.raises(ValueError, match="needs loss='beta', 'tcvae' or 'factorvae'"):
        TrainConfig(loss="full", beta=0.5)


def _aggregate_of_correlated_means(covariance: torch.Tensor, sigma: float, n: int) -> DiagonalGaussian:
    """n posteriors N(mu_n, sigma^2 I) whose means are drawn from N(0, covariance): their aggregate is
    N(0, covariance + sigma^2 I) as n grows."""
    generator = torch.Generator().manual_seed(0)
    means = torch.randn(n, len(covariance), generator=generator, dtype=torch.float64)
    means = means @ torch.linalg.cholesky(covariance).T
    return DiagonalGaussian(means, torch.full_like(means, 2 * math.log(sigma)))


def test_the_total_correlation_estimate_matches_a_correlated_gaussian_s_closed_form() -> None:
    """TC of N(0, S) is (sum_d log S_dd - log det S) / 2: the minibatch estimate over 1,000 posteriors
    whose aggregate is about that Gaussian, and 0 for independent dimensions. One minibatch's estimate
    varies by 0.025 between draws of z; the mean of 16 by 0.006, well inside the tolerance (measured: 0.323
    against 0.315; 0.316 with 2,000 posteriors)."""

    def estimate(posterior: DiagonalGaussian) -> float:
        generator = torch.Generator().manual_seed(1)
        draws = [total_correlation(posterior.sample(generator), posterior).mean() for _ in range(16)]
        return float(torch.stack(draws).mean())

    covariance = torch.tensor([[1.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 1.0]], dtype=torch.float64)
    aggregate = covariance + 0.25 * torch.eye(3, dtype=torch.float64)
    expected = 0.5 * (aggregate.diagonal().log().sum() - torch.logdet(aggregate))
    assert estimate(_aggregate_of_correlated_means(covariance, 0.5, 1000)) == pytest.approx(
        float(expected), abs=0.03
    )
    independent = _aggregate_of_correlated_means(torch.eye(3, dtype=torch.float64), 0.5, 1000)
    assert estimate(independent) == pytest.approx(0.0, abs=0.03)


def test_the_tcvae_objective_is_the_elbo_plus_beta_minus_one_times_the_total_correlation() -> None:
    torch.manual_seed(0)
    network = VAE(ModelConfig(latent_dim=3, hidden=(16,)))
    x = torch.rand(32, 784)
    full = objective(network, x, TrainConfig(), torch.Generator().manual_seed(5))
    at_one = objective(network, x, TrainConfig(loss="tcvae", beta=1.0), torch.Generator().manual_seed(5))
    assert torch.allclose(at_one.loss, full.loss)  # beta = 1: the ELBO itself
    tcvae = objective(network, x, TrainConfig(loss="tcvae", beta=6.0), torch.Generator().manual_seed(5))
    z = full.posterior.sample(torch.Generator().manual_seed(5))
    expected = full.loss + 5.0 * total_correlation(z, full.posterior)
    assert torch.allclose(tcvae.loss, expected, atol=1e-5)
    assert TrainConfig(loss="tcvae", beta=6.0).objective_title == "beta-TCVAE, beta = 6"


def test_iwae_k_needs_iwae_mode() -> None:
    with pytest.raises(ValueError, match=r"iwae_k=5 needs loss='iwae' \(loss='full' draws one z\)"):
        TrainConfig(loss="full", iwae_k=5)
    with pytest.raises(ValueError, match="iwae_k must be >= 1, got 0"):
        TrainConfig(loss="iwae", iwae_k=0)


def _mean_loss(network: VAE, x: torch.Tensor, config: TrainConfig, draws: int) -> float:
    generator = torch.Generator().manual_seed(11)
    with torch.no_grad():
        return sum(objective(network, x, config, generator).loss.mean().item() for _ in range(draws)) / draws


def test_the_iwae_objective_at_k_1_is_the_elbo(tiny_model: Path, test_set: ImageSet) -> None:
    """At k = 1 the bound is the ELBO with its KL estimated from the same z: equal in expectation."""
    _, network = load_network(tiny_model)
    x = test_set.head(50).pixels()
    elbo_loss = _mean_loss(network, x, TrainConfig(loss="full"), draws=400)
    assert _mean_loss(network, x, TrainConfig(loss="iwae", iwae_k=1), draws=400) == pytest.approx(
        elbo_loss, abs=0.2
    )


def test_the_iwae_bound_rises_with_k_on_a_fixed_model(tiny_model: Path, test_set: ImageSet) -> None:
    _, network = load_network(tiny_model)
    x = test_set.head(300).pixels()
    losses = [_mean_loss(network, x, TrainConfig(loss="iwae", iwae_k=k), draws=3) for k in (1, 5, 50)]
    assert losses[0] > losses[1] > losses[2]  # the loss is minus the bound


def test_a_model_trains_on_the_iwae_objective(tmp_path: Path, mnist: Dataset) -> None:
    folder = tmp_path / "iwae-5"
    train_tiny(folder, mnist, loss="iwae", iwae_k=5)
    history = load_history(folder)
    assert load_info(folder).train_config.iwae_k == 5
    assert history[-1]["train_loss"] < history[0]["train_loss"] and math.isfinite(
        history[-1]["test_neg_elbo"]
    )
