"""A small convolutional VAE whose encoder returns a torch.distributions.Normal and whose decoder returns
Bernoulli logits as images, with a 2-D latent space, served by Latent Atlas as it is:

    python examples/train.py conv_vae
    latent-atlas serve --model conv-vae=examples/conv_vae.py:build
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

import latent_atlas

LATENT_DIM = 2


class ConvVAE(nn.Module):
    dataset = "mnist"  # declared on the model itself: build() needs no keywords for it

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1),  # 28 -> 14
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),  # 14 -> 7
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 2 * LATENT_DIM),
        )
        self.decoder = nn.Sequential(
            nn.Linear(LATENT_DIM, 64 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),  # 7 -> 14
            nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1),  # 14 -> 28
        )

    def encode(self, x: torch.Tensor) -> Normal:
        """x: [B, 1, 28, 28] -> q(z|x)."""
        loc, log_scale = self.encoder(x).chunk(2, dim=1)
        return Normal(loc, log_scale.exp())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, 2] -> Bernoulli logits [B, 1, 28, 28]."""
        logits: torch.Tensor = self.decoder(z)
        return logits


MODEL = ConvVAE  # what examples/train.py builds and trains


def loss(model: ConvVAE, x: torch.Tensor) -> torch.Tensor:
    """-ELBO summed over the batch: x: [B, 784] in [0, 1]."""
    images = x.view(-1, 1, 28, 28)
    posterior = model.encode(images)
    logits = model.decode(posterior.rsample())
    reconstruction = F.binary_cross_entropy_with_logits(logits, images, reduction="sum")
    prior = Normal(torch.zeros_like(posterior.loc), torch.ones_like(posterior.scale))
    return reconstruction + kl_divergence(posterior, prior).sum()


def weights_path() -> Path:
    """Where train.py writes the state_dict: under the atlas's home, never in the repository."""
    return latent_atlas.home() / "examples" / "conv_vae.pt"


def build() -> ConvVAE:
    """The factory `latent-atlas serve --model` calls. The model declares its data set itself; its decoder
    gives logits (the default) and its encoder takes images (the default)."""
    model = ConvVAE()
    model.load_state_dict(torch.load(weights_path(), weights_only=True))
    return model
