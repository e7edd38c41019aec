"""Typed, frozen configs for a VAE and its training run.

A checkpoint stores both as JSON, so a model folder needs nothing else to be rebuilt.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from model.likelihoods import Likelihood, LikelihoodName, likelihood_of

Architecture = Literal["mlp", "conv"]
Activation = Literal["relu", "tanh"]
Initialisation = Literal["pytorch", "glorot"]
LossMode = Literal["full", "beta", "recon", "kl", "iwae", "tcvae", "factorvae"]
LrSchedule = Literal["constant", "cosine", "iwae-paper"]
ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
INITIALISATIONS: tuple[str, ...] = get_args(Initialisation)
LOSS_MODES: tuple[str, ...] = get_args(LossMode)
WEIGHTED_LOSSES = ("beta", "tcvae", "factorvae")  # the losses beta weighs a term of: the KL, or the TC
LR_SCHEDULES: tuple[str, ...] = get_args(LrSchedule)
# mlp: the widths of the encoder's layers; conv: the channels of its stride-2 stages, each halving the
# image's sides (28 -> 14 -> 7 for two). The decoder mirrors them. A larger image gets more conv stages
# (conv_hidden), so the features the posterior head reads stay about 8 x 8 whatever the size.
DEFAULT_HIDDEN: dict[str, tuple[int, ...]] = {"mlp": (512, 256), "conv": (32, 64)}
CONV_FEATURE_SIDE = 8  # default conv stages halve the image until its shorter side is at most this
MNIST_SHAPE = (1, 28, 28)
# Epochs of snapshots a long run keeps, thinned evenly (model.train.snapshot_epochs): the IWAE paper's 3,280
# epochs of every epoch would rewrite a 650 MB file with each checkpoint, and no animation shows thousands.
MAX_SNAPSHOTS = 200
IWAE_PAPER_STAGES = 8  # the learning-rate stages of Burda et al.'s schedule: 3^0 + ... + 3^7 = 3,280 passes


def conv_hidden(image_shape: tuple[int, int, int]) -> tuple[int, ...]:
    """A conv encoder's default channels: DEFAULT_HIDDEN's two stages (28 -> 7, 32 -> 8), and one more,
    of twice the channels, each time the image's shorter side doubles past that: 64 -> 8 in three
    (32, 64, 128), 128 -> 8 in four."""
    channels = list(DEFAULT_HIDDEN["conv"])
    side = min(image_shape[1:]) >> len(channels)
    while side > CONV_FEATURE_SIDE:
        channels.append(2 * channels[-1])
        side >>= 1
    return tuple(channels)


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    latent_dim: int = 2  # 2-D latents can be drawn as a map without projection
    architecture: Architecture = "mlp"
    hidden: tuple[int, ...] = ()  # empty: the architecture's default (DEFAULT_HIDDEN, conv_hidden)
    image_shape: tuple[int, int, int] = MNIST_SHAPE  # channels, height, width of the images modelled
    activation: Activation = "relu"  # of every hidden layer; the IWAE paper's models use tanh
    # the weights': PyTorch's layer defaults, or Glorot & Bengio's uniform, zero biases (the IWAE paper's)
    init: Initialisation = "pytorch"
    # p(x|z): model.likelihoods; a fixed Gaussian's sigma is its scale (recorded even when defaulted)
    likelihood: LikelihoodName = "bernoulli"
    likelihood_scale: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "likelihood_scale", self.decoder_likelihood.spec().get("scale"))
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.init not in INITIALISATIONS:
            raise ValueError(f"init must be one of {', '.join(INITIALISATIONS)}, got {self.init!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"
            )
        if not self.hidden:
            default = DEFAULT_HIDDEN["mlp"] if self.architecture == "mlp" else conv_hidden(self.image_shape)
            object.__setattr__(self, "hidden", default)
        if any(width < 1 for width in self.hidden):
            raise ValueError(f"hidden must be positive widths, got {self.hidden!r}")
        channels, height, width = self.image_shape
        if channels not in (1, 3) or min(height, width) < 1:
            raise ValueError(f"image_shape must be (1 or 3 channels, height, width), got {self.image_shape}")
        if self.architecture == "conv" and min(height, width) >> len(self.hidden) < 1:
            raise ValueError(
                f"{len(self.hidden)} stride-2 stages halve a {height}x{width} image to nothing: "
                "use fewer hidden stages"
            )

    @property
    def pixels(self) -> int:
        """Values per image: channels x height x width."""
        channels, height, width = self.image_shape
        return channels * height * width

    @property
    def decoder_likelihood(self) -> Likelihood:
        """p(x|z) as the decoder's outputs are read (ValueError for a likelihood or scale that cannot be)."""
        return likelihood_of(self.likelihood, self.likelihood_scale)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    loss: LossMode = "full"
    # "beta" mode: the KL term's weight (Higgins et al., 2017); "tcvae" and "factorvae" modes: the total
    # correlation's (Chen et al., 2018's beta; Kim & Mnih, 2018's gamma is beta - 1); the other modes fix
    # their weights
    beta: float = 1.0
    # "iwae" mode: importance samples per example in the bound it maximises (Burda et al., 2016); k = 1 is
    # the ELBO, and a larger k a tighter bound on log p(x)
    iwae_k: int = 1
    epochs: int = 20
    batch_size: int = 128  # minibatch AEVB (Kingma & Welling, Algorithm 1)
    lr: float = 1e-3
    # cosine decays the learning rate to 0 over the run: the same epochs reach a lower loss; iwae-paper is
    # Burda et al.'s stages (see lr_at)
    lr_schedule: LrSchedule = "constant"
    adam_eps: float = 1e-8  # Adam's epsilon: PyTorch's default; the IWAE paper's is 1e-4
    # Dynamically binarized data, as the literature's log-likelihoods are measured: training images drawn as
    # x ~ Bernoulli(intensity) afresh every epoch, the test set once with a fixed seed (ImageSet.binarized).
    # Its numbers are not comparable with those of a model of the intensities.
    binarized: bool = False
    seed: int = 0
    device: str = "auto"  # cuda > mps > cpu
    train_limit: int | None = None  # first N training images: a fixed slice for quick runs
    test_limit: int | None = None
    snapshot_size: int = 1000  # test images whose latent means are kept every epoch

    def __post_init__(self) -> None:
        if self.loss not in LOSS_MODES:
            raise ValueError(f"loss must be one of {', '.join(LOSS_MODES)}, got {self.loss!r}")
        if self.beta < 0 or self.beta != self.beta:
            raise ValueError(f"beta must be a number >= 0, got {self.beta}")
        if self.loss not in WEIGHTED_LOSSES and self.beta != 1.0:
            raise ValueError(
                f"beta={self.beta} needs loss='beta', 'tcvae' or 'factorvae' (loss={self.loss!r} fixes its "
                "weights)"
            )
        if self.loss != "iwae" and self.iwae_k != 1:
            raise ValueError(f"iwae_k={self.iwae_k} needs loss='iwae' (loss={self.loss!r} draws one z)")
        for name in ("epochs", "batch_size", "snapshot_size", "iwae_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.adam_eps <= 0:
            raise ValueError(f"adam_eps must be > 0, got {self.adam_eps}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")

    def lr_at(self, progress: float) -> float:
        """The learning rate after `progress` (0 to 1) of all training steps."""
        if self.lr_schedule == "cosine":
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
        if self.lr_schedule == "iwae-paper":
            # Burda et al. (2016), Sec. 5: 3^i passes over the data at lr * 10^(-i/7), i = 0..7 (3,280 passes
            # in all), by the passes done: a run cut short, or resumed for more epochs, has followed the
            # paper's schedule so far.
            passes, stage, stage_end = progress * self.epochs, 0, 1
            while passes >= stage_end and stage < IWAE_PAPER_STAGES - 1:
                stage += 1
                stage_end += 3**stage
            return self.lr * 10 ** (-stage / (IWAE_PAPER_STAGES - 1))
        return self.lr

    @property
    def objective_title(self) -> str:
        """What training maximised, as the app names it ("Full ELBO", "IWAE, k = 50")."""
        return {
            "full": "Full ELBO",
            "beta": f"beta = {self.beta:g}",
            "recon": "Reconstruction only",
            "kl": "KL only",
            "iwae": f"IWAE, k = {self.iwae_k}",
            "tcvae": f"beta-TCVAE, beta = {self.beta:g}",
            "factorvae": f"FactorVAE, gamma = {self.beta - 1:g}",
        }[self.loss]

    @property
    def kl_weight(self) -> float:
        """Weight of KL(q(z|x) || p(z)) in the objective for this loss mode."""
        return {"beta": self.beta, "recon": 0.0}.get(self.loss, 1.0)


def check_together(model_config: ModelConfig, config: TrainConfig) -> None:
    """ValueError for a model and a training that cannot go together."""
    if config.binarized and model_config.likelihood != "bernoulli":
        raise ValueError(
            "binarized images are 0 or 1, scored by a Bernoulli likelihood, not "
            f"{model_config.likelihood!r}: drop the likelihood or the binarization"
        )


def to_dict(config: ModelConfig | TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def model_config_from_dict(data: dict[str, Any]) -> ModelConfig:
    # Folders saved before 0.2 have no image_shape: they are all MNIST.
    shape = tuple(data.get("image_shape", MNIST_SHAPE))
    return ModelConfig(**{**data, "hidden": tuple(data["hidden"]), "image_shape": shape})


def train_config_from_dict(data: dict[str, Any]) -> TrainConfig:
    # Folders saved before 0.2 carry an unused "extra": {}; reading them must not fail.
    return TrainConfig(**{key: value for key, value in data.items() if key != "extra"})
