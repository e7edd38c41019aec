"""diffusers' AutoencoderKL, the class of Stable Diffusion's VAE, made small for MNIST: latents of 4 x 7 x 7
(a latent image, as Stable Diffusion's are), trained on images scaled to [-1, 1] with an MSE loss and a
lightly weighted KL term, as diffusers' own VAE training weighs them. Served as it is:

    python examples/train.py autoencoder_kl
    latent-atlas serve --model sd-vae=examples/autoencoder_kl.py:build

`build` declares what the atlas cannot know from the module: its data set, its [-1, 1] range and the
Gaussian likelihood an MSE loss implies (its sigma fitted on the training images when the model loads).
Its encoder's latent_dist and its decoder's DecoderOutput are read as they are.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL

import latent_atlas

KL_WEIGHT = 1e-3  # small, as an autoencoder for diffusion weighs it: sharp reconstructions first
EPOCHS, LIMIT = 2, 20_000  # examples/train.py's defaults for it: about 3 minutes on 2 cores


def MODEL() -> AutoencoderKL:
    """28 -> 14 -> 7 in three blocks, four latent channels."""
    return AutoencoderKL(
        in_channels=1,
        out_channels=1,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=28,
    )


def loss(model: AutoencoderKL, x: torch.Tensor) -> torch.Tensor:
    """MSE in [-1, 1] plus the weighted KL, summed over the batch: x is [B, 784] in [0, 1]."""
    images = 2 * x.view(-1, 1, 28, 28) - 1
    posterior = model.encode(images).latent_dist
    reconstruction = model.decode(posterior.sample()).sample
    return F.mse_loss(reconstruction, images, reduction="sum") + KL_WEIGHT * posterior.kl().sum()


def weights_path() -> Path:
    """Where train.py writes the state_dict: under the atlas's home, never in the repository."""
    return latent_atlas.home() / "examples" / "autoencoder_kl.pt"


def build() -> latent_atlas.Wrapped:
    """The factory `latent-atlas serve --model` calls: declarations only, no glue."""
    model = MODEL()
    model.load_state_dict(torch.load(weights_path(), weights_only=True))
    return latent_atlas.wrap(
        model,
        dataset="mnist",
        value_range=(-1, 1),
        likelihood="gaussian",
        title="diffusers AutoencoderKL (4 x 7 x 7 latents)",
    )
