"""A convolutional VAE as widely used public VAE code writes one: BatchNorm and LeakyReLU, `encode` returning
[mu, log_var], a decoder ending in Tanh, trained with an MSE loss on 64x64 colour images scaled to [-1, 1].
Its images are a folder of coloured shapes this example renders (seeded) into the atlas's home. Served with
declarations only:

    python examples/train.py batchnorm_vae      # renders the shapes folder first (a few seconds)
    latent-atlas serve --model shapes-vae=examples/batchnorm_vae.py:build

`build` declares its folder and the size the folder is prepared at for it (64: a colour folder's default is
32), its [-1, 1] range and the Gaussian an MSE loss implies (sigma fitted on the training images).
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import nn

import latent_atlas

SIDE = 64
LATENT_DIM = 16
SHAPES = ("circle", "square", "triangle")
PER_SHAPE = 1000
SEED = 0
EPOCHS, LIMIT = 25, None  # examples/train.py's defaults for it: about 2 minutes on 2 cores


def shapes_folder() -> Path:
    """The folder of shapes, one subfolder per shape, rendered into the home on first use."""
    folder = latent_atlas.home() / "examples" / "shapes"
    if not (folder / SHAPES[-1] / f"{PER_SHAPE - 1:04d}.png").is_file():
        _render(folder)
    return folder


def _render(folder: Path) -> None:
    """PER_SHAPE images of each shape at 80x80 (prepared at 64x64 for the model), in random colours on a
    random background, at random places and sizes: seeded, the same on every machine."""
    rng = random.Random(SEED)
    for shape in SHAPES:
        (folder / shape).mkdir(parents=True, exist_ok=True)
        for index in range(PER_SHAPE):
            image = Image.new("RGB", (80, 80), tuple(rng.randrange(40, 216) for _ in range(3)))
            size, x, y = rng.randrange(20, 40), rng.randrange(20, 60), rng.randrange(20, 60)
            box = (x - size // 2, y - size // 2, x + size // 2, y + size // 2)
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw = ImageDraw.Draw(image)
            if shape == "circle":
                draw.ellipse(box, fill=colour)
            elif shape == "square":
                draw.rectangle(box, fill=colour)
            else:
                draw.polygon([(x, box[1]), (box[0], box[3]), (box[2], box[3])], fill=colour)
            image.save(folder / shape / f"{index:04d}.png")


class BatchNormVAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        channels = [3, 32, 64, 128]
        down: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(channels):  # 64 -> 32 -> 16 -> 8
            down += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU()]
        self.encoder = nn.Sequential(*down, nn.Flatten())
        self.fc_mu = nn.Linear(128 * 8 * 8, LATENT_DIM)
        self.fc_var = nn.Linear(128 * 8 * 8, LATENT_DIM)
        self.decoder_input = nn.Linear(LATENT_DIM, 128 * 8 * 8)
        up: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(channels[:0:-1]):  # 8 -> 16 -> 32: 128 -> 64 -> 32
            up += [
                nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(),
            ]
        self.decoder = nn.Sequential(*up)
        self.final_layer = nn.Sequential(  # 32 -> 64, to three channels in [-1, 1]
            nn.ConvTranspose2d(32, 3, 3, stride=2, padding=1, output_padding=1), nn.Tanh()
        )

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: [B, 3, 64, 64] in [-1, 1] -> [mu, log_var], each [B, 16]."""
        result = self.encoder(x)
        return [self.fc_mu(result), self.fc_var(result)]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, 16] -> images [B, 3, 64, 64] in [-1, 1]."""
        result = self.decoder_input(z).view(-1, 128, 8, 8)
        return self.final_layer(self.decoder(result))  # type: ignore[no-any-return]


MODEL = BatchNormVAE  # what examples/train.py builds and trains
KL_WEIGHT = 2.5e-4  # the KL term's weight against the per-pixel mean squared error, as such code sets it


def images() -> torch.Tensor:
    """What examples/train.py trains on: the shapes' training images at 64x64, [N, 3*64*64] in [0, 1]."""
    return latent_atlas.load_dataset(f"folder:{shapes_folder()}", image_size=SIDE).train.pixels()


def loss(model: BatchNormVAE, x: torch.Tensor) -> torch.Tensor:
    """The per-pixel mean squared error on [-1, 1] plus the weighted KL, averaged over the batch."""
    images = 2 * x.view(-1, 3, SIDE, SIDE) - 1
    mu, log_var = model.encode(images)
    z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
    reconstruction = F.mse_loss(model.decode(z), images)
    kl = torch.mean(-0.5 * torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=1))
    return reconstruction + KL_WEIGHT * kl


def weights_path() -> Path:
    """Where train.py writes the state_dict: under the atlas's home, never in the repository."""
    return latent_atlas.home() / "examples" / "batchnorm_vae.pt"


def build() -> latent_atlas.Wrapped:
    """The factory `latent-atlas serve --model` calls: declarations only, no glue."""
    model = BatchNormVAE()
    model.load_state_dict(torch.load(weights_path(), weights_only=True))
    return latent_atlas.wrap(
        model,
        dataset=f"folder:{shapes_folder()}",
        image_size=SIDE,
        value_range=(-1, 1),
        likelihood="gaussian",
        title="BatchNorm conv VAE, MSE on 64x64 colour shapes",
    )
