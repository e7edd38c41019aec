"""The decoder's likelihoods p(x|z), each a named part: what the decoder's output means for every pixel, and
from it log p(x|z), the mean image and samples.

Images are intensities in [0, 1] (8-bit data: k / 255), and every density is taken there: a model that works
in [-1, 1] is scored after its outputs are mapped back (model/outside.py), so nats compare across models of
one data set and one likelihood, never across likelihoods (a density and a probability mass are not the same
kind of number) or data sets.

The decoder gives `outputs_per_value` numbers per pixel value, laid out [..., P * V] with the means (or
logits) first: [B, C*H*W] for one, [B, 2*C*H*W] for mean and log-scale."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

import torch
import torch.nn.functional as F
from torch import distributions

LikelihoodName = Literal["bernoulli", "continuous-bernoulli", "gaussian", "gaussian-learned", "logistic"]
LIKELIHOODS: tuple[str, ...] = get_args(LikelihoodName)
CHOICES: dict[str, str] = {  # each as a chooser (the CLI's help, the Train page) names it
    "bernoulli": "Bernoulli",
    "continuous-bernoulli": "continuous Bernoulli",
    "gaussian": "Gaussian, fixed sigma (MSE)",
    "gaussian-learned": "Gaussian, sigma per pixel",
    "logistic": "discretized logistic",
}
DEFAULT_GAUSSIAN_SCALE = 0.1  # sigma of a fixed-scale Gaussian when none is declared: MSE weighted by 50
# A learned scale's floor: the density of pixels that never change (MNIST's empty border) grows without bound
# as sigma -> 0 (Mattei & Frellsen, 2018), so sigma stays above a tenth of one 8-bit step.
MIN_LOG_SCALE = math.log(1e-3 / 2.55)
CB_LOGIT_BOUND = 20.0  # the constant fit's search: torch keeps probabilities 2^-23 from 0 and 1
LEVELS = 255  # 8-bit intensities: x = k / 255, k = 0..255
_HALF_BIN = 0.5 / LEVELS


@dataclass(frozen=True)
class Likelihood(abc.ABC):
    """p(x|z) given the decoder's output `params`: [..., P * V] for x: [..., V] in [0, 1] (broadcast)."""

    name: ClassVar[str]
    outputs_per_value: ClassVar[int] = 1
    discrete: ClassVar[bool] = False  # a probability mass: its nats are also given in bits per dimension

    @abc.abstractmethod
    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over the values: [...]."""

    @abc.abstractmethod
    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The mean image E[x|z]: [..., V] (a Gaussian's may leave [0, 1]: the pages clip it to draw it)."""

    @abc.abstractmethod
    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One image drawn from p(x|z): [..., V]."""

    @abc.abstractmethod
    def constant_fit(self, x: torch.Tensor) -> torch.Tensor:
        """The maximum-likelihood parameters [P * V] of a decoder that ignores z, fitted to x: [N, V]: the
        reconstruction a latent code carrying no information can at best reach."""

    @property
    def title(self) -> str:
        """How the figures name it ("Gaussian, sigma = 0.1")."""
        return self.name.capitalize()

    def spec(self) -> dict[str, Any]:
        """What rebuilds it: `likelihood_of(**spec)`."""
        return {"name": self.name}


@dataclass(frozen=True)
class Bernoulli(Likelihood):
    """Each intensity x_i in [0, 1] scored as a Bernoulli probability with logit l_i (the tutorial's decoder;
    for grey levels the cross-entropy, as the literature's non-binarized MNIST figures take it)."""

    name: ClassVar[str] = "bernoulli"

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # From logits: log sigmoid stays exact where a saturated sigmoid would round to 0 or 1.
        params, x = torch.broadcast_tensors(params, x)
        return -F.binary_cross_entropy_with_logits(params, x, reduction="none").sum(dim=-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)

    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(params), generator=generator)

    def constant_fit(self, x: torch.Tensor) -> torch.Tensor:
        p = x.mean(dim=0).clamp(1e-6, 1 - 1e-6)
        return torch.log(p) - torch.log1p(-p)


@dataclass(frozen=True)
class ContinuousBernoulli(Likelihood):
    """The continuous Bernoulli of Loaiza-Ganem & Cunningham (2019): the Bernoulli's cross-entropy made a
    density on [0, 1] by its normalising constant C(lambda). torch.distributions.ContinuousBernoulli computes
    it (its log_prob, mean and inverse CDF), from the decoder's logits."""

    name: ClassVar[str] = "continuous-bernoulli"

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        params, x = torch.broadcast_tensors(params, x)
        log_density: torch.Tensor = distributions.ContinuousBernoulli(logits=params).log_prob(x)
        return log_density.sum(dim=-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        mean: torch.Tensor = distributions.ContinuousBernoulli(logits=params).mean
        return mean

    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand(params.shape, generator=generator, device=params.device).clamp(1e-6, 1 - 1e-6)
        drawn: torch.Tensor = distributions.ContinuousBernoulli(logits=params).icdf(u)
        return drawn

    def constant_fit(self, x: torch.Tensor) -> torch.Tensor:
        # An exponential family in x: its maximum-likelihood fit has the data's mean as its own mean, and
        # the mean rises with the logit, so bisection on the logit finds it.
        target = x.mean(dim=0).clamp(1e-4, 1 - 1e-4)
        low, high = torch.full_like(target, -CB_LOGIT_BOUND), torch.full_like(target, CB_LOGIT_BOUND)
        for _ in range(50):
            middle = (low + high) / 2
            below = self.mean(middle) < target
            low, high = torch.where(below, middle, low), torch.where(below, high, middle)
        return (low + high) / 2

    @property
    def title(self) -> str:
        return "Continuous Bernoulli"


@dataclass(frozen=True)
class Gaussian(Likelihood):
    """x_i ~ N(m_i, scale^2) with one scale for every pixel: the likelihood an MSE loss implies
    (-log p = ||x - m||^2 / (2 scale^2) + V log(scale sqrt(2 pi)))."""

    scale: float = DEFAULT_GAUSSIAN_SCALE
    name: ClassVar[str] = "gaussian"

    def __post_init__(self) -> None:
        if not (isinstance(self.scale, int | float) and 0 < self.scale < math.inf):
            raise ValueError(f"a Gaussian likelihood's scale must be a number > 0, got {self.scale!r}")

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return _normal_log_density(x, params, math.log(self.scale)).sum(dim=-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params

    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return params + self.scale * _noise(params, generator)

    def constant_fit(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=0)

    @property
    def title(self) -> str:
        return f"Gaussian, sigma = {self.scale:.3g}"

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "scale": self.scale}


@dataclass(frozen=True)
class GaussianLearned(Likelihood):
    """x_i ~ N(m_i, s_i^2), the decoder giving the mean and log s_i of every pixel (s_i kept above
    exp(MIN_LOG_SCALE))."""

    name: ClassVar[str] = "gaussian-learned"
    outputs_per_value: ClassVar[int] = 2

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        mean, log_scale = _mean_and_log_scale(params)
        return _normal_log_density(x, mean, log_scale).sum(dim=-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params.chunk(2, dim=-1)[0]

    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        mean, log_scale = _mean_and_log_scale(params)
        return mean + log_scale.exp() * _noise(mean, generator)

    def constant_fit(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.std(dim=0, correction=0)
        return torch.cat([x.mean(dim=0), scale.log().clamp(min=MIN_LOG_SCALE)])

    @property
    def title(self) -> str:
        return "Gaussian, learned sigma"


@dataclass(frozen=True)
class DiscretizedLogistic(Likelihood):
    """The discretized logistic of PixelCNN++ (Salimans et al., 2017, Sec. 2.1) for 8-bit images: the mass a
    logistic(m_i, s_i) puts on the bin of x_i's level k / 255 (width 1 / 255), the edge bins taking the tails
    below 0 and above 1. A probability mass, so its nats also read as bits per dimension."""

    name: ClassVar[str] = "logistic"
    outputs_per_value: ClassVar[int] = 2
    discrete: ClassVar[bool] = True

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        mean, log_scale = _mean_and_log_scale(params)
        x = torch.round(x * LEVELS) / LEVELS  # the level each intensity stands for
        centred, inverse_scale = x - mean, torch.exp(-log_scale)
        upper, lower = inverse_scale * (centred + _HALF_BIN), inverse_scale * (centred - _HALF_BIN)
        log_cdf_upper = -F.softplus(-upper)  # log sigmoid(upper): the bin at 0 takes the tail below
        log_survival_lower = -F.softplus(lower)  # log (1 - sigmoid(lower)): the bin at 1, the tail above
        # sigmoid(u) - sigmoid(l) = sigmoid(u) (1 - sigmoid(l)) (1 - e^(l - u)): in logs no term rounds away,
        # where the difference of two CDFs near 1 would.
        log_bin = log_cdf_upper + log_survival_lower + torch.log(-torch.expm1(lower - upper))
        log_mass = torch.where(
            x < _HALF_BIN, log_cdf_upper, torch.where(x > 1 - _HALF_BIN, log_survival_lower, log_bin)
        )
        return log_mass.sum(dim=-1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params.chunk(2, dim=-1)[0]

    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        mean, log_scale = _mean_and_log_scale(params)
        u = torch.rand(mean.shape, generator=generator, device=mean.device).clamp(1e-6, 1 - 1e-6)
        drawn = mean + log_scale.exp() * (torch.log(u) - torch.log1p(-u))
        return (torch.round(drawn * LEVELS) / LEVELS).clamp(0.0, 1.0)

    def constant_fit(self, x: torch.Tensor) -> torch.Tensor:
        # The logistic's variance is s^2 pi^2 / 3, matched to each pixel's: the moments' fit, near the ML one
        scale = x.std(dim=0, correction=0) * math.sqrt(3) / math.pi
        return torch.cat([x.mean(dim=0), scale.log().clamp(min=MIN_LOG_SCALE)])

    @property
    def title(self) -> str:
        return "Discretized logistic (8-bit)"


def likelihood_of(name: str = "bernoulli", scale: float | None = None) -> Likelihood:
    """The likelihood called `name`; `scale` is a fixed Gaussian's sigma (DEFAULT_GAUSSIAN_SCALE if None).
    ValueError naming what is wrong."""
    if name not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {name!r}")
    if name == "gaussian":
        return Gaussian(DEFAULT_GAUSSIAN_SCALE if scale is None else scale)
    if scale is not None:
        raise ValueError(f"a scale is declared only for the 'gaussian' likelihood, not {name!r}")
    if name == "gaussian-learned":
        return GaussianLearned()
    if name == "continuous-bernoulli":
        return ContinuousBernoulli()
    return DiscretizedLogistic() if name == "logistic" else Bernoulli()


def suited_to(channels: int) -> LikelihoodName:
    """The likelihood a built-in model trains with when none is chosen: the tutorial's Bernoulli for grey
    images, the discretized logistic for 8-bit colour (a Bernoulli's cross-entropy of colour levels is not a
    likelihood of them)."""
    return "bernoulli" if channels == 1 else "logistic"


def bits_per_dim(nats: float, values: int) -> float:
    """A log-likelihood in nats per image as bits per dimension: -nats / (V ln 2)."""
    return -nats / (values * math.log(2))


def _mean_and_log_scale(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, log_scale = params.chunk(2, dim=-1)
    return mean, log_scale.clamp(min=MIN_LOG_SCALE)


def _normal_log_density(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor | float) -> torch.Tensor:
    inverse = torch.exp(-log_scale) if isinstance(log_scale, torch.Tensor) else math.exp(-log_scale)
    return -0.5 * ((x - mean) * inverse).pow(2) - log_scale - 0.5 * math.log(2 * math.pi)


def _noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)
