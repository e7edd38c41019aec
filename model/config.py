"""Typed, frozen configs for a VAE and its training run.

A checkpoint stores both as JSON, so a model folder needs nothing else to be rebuilt.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

Architecture = Literal["mlp"]
LossMode = Literal["full", "beta", "recon", "kl"]
LrSchedule = Literal["constant", "cosine"]
ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
LOSS_MODES: tuple[str, ...] = get_args(LossMode)
LR_SCHEDULES: tuple[str, ...] = get_args(LrSchedule)


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    latent_dim: int = 2  # 2-D latents can be drawn as a map without projection
    hidden: tuple[int, ...] = (512, 256)  # encoder widths; the decoder mirrors them
    architecture: Architecture = "mlp"  # "conv" is the planned second family

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if not self.hidden or any(width < 1 for width in self.hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {self.hidden!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"
            )


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    loss: LossMode = "full"
    beta: float = 1.0  # weight of the KL term; only "beta" mode may change it from 1
    epochs: int = 20
    batch_size: int = 128  # minibatch AEVB (Kingma & Welling, Algorithm 1)
    lr: float = 1e-3
    # cosine decays the learning rate to 0 over the run: the same epochs reach a lower loss
    lr_schedule: LrSchedule = "constant"
    seed: int = 0
    device: str = "auto"  # cuda > mps > cpu
    train_limit: int | None = None  # first N training digits: a fixed slice for quick runs
    test_limit: int | None = None
    snapshot_size: int = 1000  # test digits whose latent means are kept every epoch

    def __post_init__(self) -> None:
        if self.loss not in LOSS_MODES:
            raise ValueError(f"loss must be one of {', '.join(LOSS_MODES)}, got {self.loss!r}")
        if self.beta < 0 or self.beta != self.beta:
            raise ValueError(f"beta must be a number >= 0, got {self.beta}")
        if self.loss != "beta" and self.beta != 1.0:
            raise ValueError(f"beta={self.beta} needs loss='beta' (loss={self.loss!r} fixes its weights)")
        for name in ("epochs", "batch_size", "snapshot_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
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
        return self.lr

    @property
    def kl_weight(self) -> float:
        """Weight of KL(q(z|x) || p(z)) in the objective for this loss mode."""
        return {"full": 1.0, "beta": self.beta, "recon": 0.0, "kl": 1.0}[self.loss]


def to_dict(config: ModelConfig | TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def model_config_from_dict(data: dict[str, Any]) -> ModelConfig:
    return ModelConfig(**{**data, "hidden": tuple(data["hidden"])})


def train_config_from_dict(data: dict[str, Any]) -> TrainConfig:
    # Folders saved before 0.2 carry an unused "extra": {}; reading them must not fail.
    return TrainConfig(**{key: value for key, value in data.items() if key != "extra"})
