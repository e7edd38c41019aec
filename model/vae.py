"""The VAE of Kingma & Welling: Gaussian encoder q(z|x), Bernoulli decoder p(x|z), prior N(0, I)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from model.config import ModelConfig
from model.data import IMAGE_PIXELS


@dataclass(frozen=True)
class DiagonalGaussian:
    """q(z|x) = N(mu, diag(sigma^2)), parametrised by mu and logvar: [B, D] each."""

    mu: torch.Tensor
    logvar: torch.Tensor

    @property
    def sigma(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reparametrised draw z = mu + sigma * eps, eps ~ N(0, I) (tutorial Eq. 22): gradients reach mu
        and logvar through z."""
        eps = torch.randn(self.mu.shape, generator=generator, device=self.mu.device, dtype=self.mu.dtype)
        return self.mu + self.sigma * eps

    def kl_per_dim(self) -> torch.Tensor:
        """Analytic KL(q || N(0, I)) per latent dimension, [B, D] in nats (Kingma & Welling, App. B)."""
        return 0.5 * (self.mu.pow(2) + self.logvar.exp() - 1.0 - self.logvar)

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, I)) per example, [B]."""
        return self.kl_per_dim().sum(dim=1)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z|x) for z: [B, D] (or [S, B, D]), summed over dimensions."""
        return _gaussian_log_density(z, self.mu, self.logvar)

    def log_prob_of_noise(self, eps: torch.Tensor) -> torch.Tensor:
        """log q(z|x) at the reparametrised z = mu + sigma * eps, for eps: [B, D] (or [S, B, D]).

        Written in eps, it stays exact where sigma^2 underflows: a reconstruction-only model's logvar
        reaches -125, where (z - mu)^2 / sigma^2 would be 0 / 0."""
        return -0.5 * (eps.pow(2) + self.logvar + math.log(2 * math.pi)).sum(dim=-1)


def prior_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log p(z) under N(0, I), summed over the last dimension."""
    return _gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))


def _gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(dim=-1)


def _mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width_in, width_out in itertools.pairwise(widths):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """MLP encoder and decoder over flattened 28x28 images with intensities in [0, 1]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        widths = [IMAGE_PIXELS, *config.hidden]
        self.encoder = _mlp(widths)
        # One head for mu and logvar together: a single matmul instead of two.
        self.posterior_head = nn.Linear(widths[-1], 2 * config.latent_dim)
        self.decoder = nn.Sequential(
            _mlp([config.latent_dim, *reversed(widths[1:])]),
            nn.Linear(widths[1], IMAGE_PIXELS),
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x: [B, 784] or [B, 28, 28] in [0, 1] -> q(z|x) with mu, logvar: [B, D]."""
        mu, logvar = self.posterior_head(self.encoder(x.reshape(x.shape[0], -1))).chunk(2, dim=1)
        return DiagonalGaussian(mu, logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [..., D] -> Bernoulli logits of p(x|z): [..., 784]."""
        logits: torch.Tensor = self.decoder(z)
        return logits

    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw z ~ N(0, temperature^2 I) on the generator's device (so a seed gives the same z on any
        device) and decode -> z: [n, D], pixel means [n, 784] in [0, 1]."""
        rng_device = generator.device if generator is not None else torch.device("cpu")
        z = temperature * torch.randn((n, self.latent_dim), generator=generator, device=rng_device)
        z = z.to(next(self.parameters()).device)
        return z, torch.sigmoid(self.decode(z))
