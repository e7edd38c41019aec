"""FactorVAE (Kim & Mnih, 2018): its discriminator's estimate of the total correlation against a Gaussian's
closed form, each loss reaching only its own weights, and a run that resumes to the same VAE and
discriminator as an uninterrupted one."""

import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.checkpoint import WEIGHTS_FILE, load_training_state
from model.config import ModelConfig, TrainConfig
from model.data import Dataset
from model.objectives import (
    TotalCorrelationDiscriminator,
    discriminated_total_correlation,
    discriminator_loss,
    objective,
    shuffled_dimensions,
)
from model.train import train
from model.vae import VAE

FACTOR_VAE = TrainConfig(
    loss="factorvae", beta=11.0, epochs=2, batch_size=100, device="cpu", train_limit=1_000, test_limit=200
)


def test_shuffling_keeps_each_dimension_s_values_and_breaks_their_pairing() -> None:
    z = torch.arange(12.0).reshape(6, 2)
    keys = torch.tensor([[5.0, 0.0], [4.0, 1.0], [3.0, 2.0], [2.0, 3.0], [1.0, 4.0], [0.0, 5.0]])
    shuffled = shuffled_dimensions(z, keys)
    assert torch.equal(shuffled[:, 0], z.flip(0)[:, 0]) and torch.equal(shuffled[:, 1], z[:, 1])


def test_the_trained_discriminator_estimates_a_correlated_gaussian_s_total_correlation() -> None:
    """TC of N(0, [[1, r], [r, 1]]) is -log(1 - r^2) / 2 (0.511 at r = 0.8): the mean logit difference of a
    discriminator trained by its own loss on minibatches of it, and 0 for independent dimensions."""

    def estimate(rho: float) -> float:
        generator = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        discriminator = TotalCorrelationDiscriminator(2, width=64, layers=3)
        optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.9))
        mix = torch.tensor([[1.0, rho], [0.0, math.sqrt(1 - rho**2)]])

        def draw(n: int) -> torch.Tensor:
            return torch.randn(n, 2, generator=generator) @ mix

        for _ in range(300):
            keys = torch.randn(256, 2, generator=generator)
            loss = discriminator_loss(discriminator, draw(256), keys).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            return float(discriminated_total_correlation(discriminator, draw(20_000)).mean())

    assert estimate(0.8) == pytest.approx(-0.5 * math.log(1 - 0.8**2), abs=0.08)
    assert estimate(0.0) == pytest.approx(0.0, abs=0.05)


def test_the_vae_s_loss_moves_only_the_vae_and_the_discriminator_s_only_the_discriminator() -> None:
    torch.manual_seed(0)
    network = VAE(ModelConfig(latent_dim=3, hidden=(16,)))
    discriminator = TotalCorrelationDiscriminator(3, width=16, layers=3)
    x = torch.rand(32, 784)
    config = TrainConfig(loss="factorvae", beta=11.0)
    parts = objective(network, x, config, torch.Generator().manual_seed(1), discriminator=discriminator)
    assert parts.discriminator_loss is not None
    vae_weights, critic = list(network.parameters()), list(discriminator.parameters())
    from_loss = torch.autograd.grad(
        parts.loss.sum(), vae_weights + critic, retain_graph=True, allow_unused=True
    )
    assert all(g is None for g in from_loss[len(vae_weights) :])
    assert any(g is not None and g.abs().sum() > 0 for g in from_loss[: len(vae_weights)])
    from_critic = torch.autograd.grad(parts.discriminator_loss.sum(), vae_weights + critic, allow_unused=True)
    assert all(g is None for g in from_critic[: len(vae_weights)])
    assert all(g is not None for g in from_critic[len(vae_weights) :])
    # The VAE's loss is the negative ELBO plus (beta - 1) times the discriminator's TC at the same z.
    z = parts.posterior.reparametrise(
        torch.randn((32, 2, 3), generator=torch.Generator().manual_seed(1))[:, 0]
    )
    tc = discriminated_total_correlation(discriminator, z)
    assert torch.allclose(parts.loss, parts.kl - parts.reconstruction + 10.0 * tc, atol=1e-5)
    assert config.objective_title == "FactorVAE, gamma = 10"
    with pytest.raises(ValueError, match="the factorvae objective needs its discriminator"):
        objective(network, x, config)


def _train(folder: Path, dataset: Dataset, epochs: int) -> None:
    train(
        folder,
        model_id=folder.name,
        title=folder.name,
        model_config=ModelConfig(latent_dim=4, hidden=(64,)),
        config=TrainConfig(**{**FACTOR_VAE.__dict__, "epochs": epochs}),
        dataset=dataset,
        resume=True,
        progress=False,
    )


def test_a_resumed_factor_vae_ends_with_the_same_vae_and_discriminator(
    tmp_path: Path, mnist: Dataset
) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _train(straight, mnist, 2)
    _train(resumed, mnist, 1)
    _train(resumed, mnist, 2)
    for name, weight in load_file(str(straight / WEIGHTS_FILE)).items():
        assert torch.equal(load_file(str(resumed / WEIGHTS_FILE))[name], weight), name
    kept, again = load_training_state(straight).discriminator, load_training_state(resumed).discriminator
    assert kept is not None and again is not None and kept.keys() == again.keys()
    assert all(torch.equal(kept[name], again[name]) for name in kept)
