"""The VAE of Kingma & Welling: Gaussian encoder q(z|x), decoder p(x|z) (Bernoulli, as the tutorial's, or
another of model.likelihoods), prior N(0, I)."""

from __future__ import annotations

import abc
import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from model.config import ModelConfig
from model.likelihoods import Likelihood


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
        return self.reparametrise(eps)

    def reparametrise(self, eps: torch.Tensor) -> torch.Tensor:
        """z = mu + sigma * eps for given noise eps: [B, D]."""
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

    def log_prob_per_dim(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z_d|x) of each dimension for z: [..., D] (broadcast against mu): the marginals' densities."""
        return _gaussian_log_density_per_dim(z, self.mu, self.logvar)

    def log_prob_of_noise(self, eps: torch.Tensor) -> torch.Tensor:
        """log q(z|x) at the reparametrised z = mu + sigma * eps, for eps: [B, D] (or [S, B, D]).

        Written in eps, it stays exact where sigma^2 underflows: a reconstruction-only model's logvar
        reaches -125, where (z - mu)^2 / sigma^2 would be 0 / 0."""
        return -0.5 * (eps.pow(2) + self.logvar + math.log(2 * math.pi)).sum(dim=-1)


def prior_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log p(z) under N(0, I), summed over the last dimension."""
    return _gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))


def _gaussian_log_density_per_dim(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi))


def _gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return _gaussian_log_density_per_dim(z, mu, logvar).sum(dim=-1)


_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


def _mlp(widths: list[int], activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width_in, width_out in itertools.pairwise(widths):
        layers += [nn.Linear(width_in, width_out), _ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def _halvings(side: int, stages: int) -> list[int]:
    """A side's length after each stride-2 stage (kernel 4, padding 1: floor(side / 2)), input first."""
    sides = [side]
    for _ in range(stages):
        sides.append(sides[-1] // 2)
    return sides


# The convolutional family: strided convolutions down, transposed convolutions back up (the DCGAN
# pattern of most convolutional VAEs); each stage halves (doubles) both sides of the image.
def _conv_encoder(config: ModelConfig) -> tuple[nn.Sequential, int]:
    """[B, C, H, W] -> features [B, F], and F."""
    channels, height, width = config.image_shape
    depth = [channels, *config.hidden]
    layers: list[nn.Module] = []
    for c_in, c_out in itertools.pairwise(depth):
        layers += [
            nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1),
            _ACTIVATIONS[config.activation](),
        ]
    stages = len(config.hidden)
    features = depth[-1] * _halvings(height, stages)[-1] * _halvings(width, stages)[-1]
    return nn.Sequential(*layers, nn.Flatten()), features


def _conv_decoder(config: ModelConfig) -> nn.Sequential:
    """z [B, D] -> p(x|z)'s parameters [B, P*C, H, W] (P per value: the likelihood's), mirroring the
    encoder."""
    channels, height, width = config.image_shape
    outputs = channels * config.decoder_likelihood.outputs_per_value
    depth, stages = [outputs, *config.hidden], len(config.hidden)
    heights, widths = _halvings(height, stages), _halvings(width, stages)
    layers: list[nn.Module] = [
        nn.Linear(config.latent_dim, depth[-1] * heights[-1] * widths[-1]),
        _ACTIVATIONS[config.activation](),
        nn.Unflatten(1, (depth[-1], heights[-1], widths[-1])),
    ]
    for stage in reversed(range(stages)):
        # A transposed stage doubles a side; output_padding adds the 1 that halving an odd side dropped.
        extra = (heights[stage] - 2 * heights[stage + 1], widths[stage] - 2 * widths[stage + 1])
        layers.append(
            nn.ConvTranspose2d(
                depth[stage + 1], depth[stage], kernel_size=4, stride=2, padding=1, output_padding=extra
            )
        )
        if stage > 0:
            layers.append(_ACTIVATIONS[config.activation]())
    return nn.Sequential(*layers)


def _mlp_decoder(config: ModelConfig) -> nn.Sequential:
    """z [..., D] -> p(x|z)'s parameters [..., P*C*H*W], mirroring the encoder's widths."""
    widths = [config.pixels, *config.hidden]
    return nn.Sequential(
        _mlp([config.latent_dim, *reversed(widths[1:])], config.activation),
        nn.Linear(widths[1], config.pixels * config.decoder_likelihood.outputs_per_value),
    )


class LatentModel(nn.Module, abc.ABC):
    """What the metrics, estimators and evaluation need of a VAE: q(z|x) as a DiagonalGaussian, p(x|z) as a
    likelihood and the decoder's parameters of it, the latent size, and which weights are the encoder's.
    Latent Atlas's own VAE is one; so is a user's own model behind its adapter (model/outside.py)."""

    @property
    @abc.abstractmethod
    def latent_dim(self) -> int: ...

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The shape of one latent as the model makes it: (D,), or (C, h, w) for a spatial one."""
        return (self.latent_dim,)

    @property
    @abc.abstractmethod
    def likelihood(self) -> Likelihood:
        """p(x|z) given decode's output (model.likelihoods)."""

    @abc.abstractmethod
    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x: [B, C*H*W] (or [B, C, H, W]) in [0, 1] -> q(z|x) with mu, logvar: [B, D]."""

    @abc.abstractmethod
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [..., D] -> the parameters of p(x|z): [..., P*C*H*W] (Bernoulli logits, Gaussian means, ...)."""

    @property
    def likelihood_label(self) -> str:
        """How the figures name the likelihood they were scored by."""
        return self.likelihood.title

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """z: [..., D] -> the mean image E[x|z]: [..., C*H*W]."""
        return self.likelihood.mean(self.decode(z))

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) for z: [..., D] and x: [..., C*H*W] (broadcast) -> [...]."""
        return self.likelihood.log_prob(self.decode(z), x)

    @abc.abstractmethod
    def encoder_parameters(self) -> list[nn.Parameter]:
        """The weights q(z|x) depends on: what the estimators differentiate."""

    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw z ~ N(0, temperature^2 I) on the generator's device (so a seed gives the same z on any
        device) and decode -> z: [n, D], mean images [n, C*H*W]."""
        rng_device = generator.device if generator is not None else torch.device("cpu")
        z = temperature * torch.randn((n, self.latent_dim), generator=generator, device=rng_device)
        z = z.to(next(self.parameters()).device)
        return z, self.decode_mean(z)


class VAE(LatentModel):
    """q(z|x) and p(x|z) over images with intensities in [0, 1], given as [B, C*H*W] or [B, C, H, W]
    ([B, H, W] for one channel): an MLP over the flattened pixels, or strided convolutions
    (`config.architecture`). Either way the decoder gives the parameters of `config.likelihood` for every
    pixel, [B, P*C*H*W]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self._likelihood = config.decoder_likelihood
        conv = config.architecture == "conv"
        # Built in this order (encoder, head, decoder) so that a seed initialises the same MLP as it
        # always has: the same seed and data give the same model in every version.
        if conv:
            self.encoder, features = _conv_encoder(config)
        else:
            self.encoder, features = (
                _mlp([config.pixels, *config.hidden], config.activation),
                config.hidden[-1],
            )
        # One head for mu and logvar together: a single matmul instead of two.
        self.posterior_head = nn.Linear(features, 2 * config.latent_dim)
        self.decoder = _conv_decoder(config) if conv else _mlp_decoder(config)
        if config.init == "glorot":
            for layer in self.modules():
                if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.xavier_uniform_(layer.weight)
                    if layer.bias is not None:
                        nn.init.zeros_(layer.bias)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def likelihood(self) -> Likelihood:
        return self._likelihood

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x: [B, C*H*W], [B, C, H, W] or [B, H, W], in [0, 1] -> q(z|x) with mu, logvar: [B, D]."""
        if self.config.architecture == "conv":
            x = x.reshape(x.shape[0], *self.config.image_shape)
        else:
            x = x.reshape(x.shape[0], -1)
        mu, logvar = self.posterior_head(self.encoder(x)).chunk(2, dim=1)
        return DiagonalGaussian(mu, logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [..., D] -> the parameters of p(x|z): [..., P*C*H*W]."""
        if self.config.architecture == "conv":
            flat: torch.Tensor = self.decoder(z.reshape(-1, self.latent_dim))
            return flat.reshape(*z.shape[:-1], -1)
        params: torch.Tensor = self.decoder(z)
        return params

    def encoder_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.posterior_head.parameters()]
