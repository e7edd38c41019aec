"""The VAE of pytorch/examples (vae/main.py, BSD-3-Clause), 784-400-20, served by Latent Atlas as it is:

    python examples/train.py pytorch_vae
    latent-atlas serve --model pytorch-vae=examples/pytorch_vae.py:build

Its encoder takes flat [B, 784] images and returns (mu, logvar); its decoder returns pixel means (a
sigmoid), and it was trained with binary cross-entropy on them: `build` declares exactly that.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import latent_atlas


class VAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


MODEL = VAE  # what examples/train.py builds and trains


def loss(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """pytorch/examples' loss_function: reconstruction + KL divergence, summed over the batch."""
    recon_x, mu, logvar = model(x)
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def weights_path() -> Path:
    """Where train.py writes the state_dict: under the atlas's home, never in the repository."""
    return latent_atlas.home() / "examples" / "pytorch_vae.pt"


def build() -> latent_atlas.Wrapped:
    """The factory `latent-atlas serve --model` calls: the trained model and what the atlas must know."""
    model = VAE()
    model.load_state_dict(torch.load(weights_path(), weights_only=True))
    return latent_atlas.wrap(
        model,
        dataset="mnist",
        decodes="means",  # decode ends in a sigmoid
        inputs="flat",  # encode takes [B, 784]
        title="pytorch/examples VAE (784-400-20)",
    )
