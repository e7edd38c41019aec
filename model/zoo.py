"""The default models: the tutorial's three 2-D latent maps, and a 16-D model for quality."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from model.checkpoint import CheckpointInfo, load_info
from model.config import ModelConfig, TrainConfig
from model.data import Digits
from model.home import models_root
from model.train import train


@dataclass(frozen=True)
class ZooEntry:
    model_id: str
    title: str
    model: ModelConfig
    training: TrainConfig


# Settings measured so the whole zoo trains in about 3 minutes on a 2-core CPU (see README): the
# cosine schedule buys a lower loss for the same epochs.
_TWO_D = ModelConfig(latent_dim=2, hidden=(256, 256))
_TWO_D_TRAINING = TrainConfig(epochs=10, batch_size=128, lr=2e-3, lr_schedule="cosine")

DEFAULT_ZOO: tuple[ZooEntry, ...] = (
    ZooEntry("full-2d", "Full ELBO, 2-D latent", _TWO_D, _TWO_D_TRAINING),
    ZooEntry("recon-2d", "Reconstruction only, 2-D latent", _TWO_D, replace(_TWO_D_TRAINING, loss="recon")),
    # KL alone pulls every code onto the prior within an epoch; more epochs would change nothing.
    ZooEntry("kl-2d", "KL only, 2-D latent", _TWO_D, replace(_TWO_D_TRAINING, loss="kl", epochs=2)),
    ZooEntry(
        "full-16d",
        "Full ELBO, 16-D latent",
        ModelConfig(latent_dim=16, hidden=(512, 256)),
        TrainConfig(epochs=13, batch_size=128, lr=1e-3, lr_schedule="cosine"),
    ),
)

QUICK_EPOCHS = 3  # for tests and demos: minutes become seconds, the maps keep their shape
QUICK_TRAIN_LIMIT = 12_000


def zoo_entries(*, quick: bool = False, device: str = "auto") -> list[ZooEntry]:
    """The default zoo for `device`; `quick` trains a few epochs on a fixed slice of the training set."""
    entries = []
    for entry in DEFAULT_ZOO:
        training = replace(entry.training, device=device)
        if quick:
            training = replace(training, epochs=QUICK_EPOCHS, train_limit=QUICK_TRAIN_LIMIT)
        entries.append(replace(entry, training=training))
    return entries


def is_complete(folder: Path) -> bool:
    """True when `folder` holds a model trained for all its epochs (a damaged folder raises)."""
    if not folder.exists():
        return False
    info = load_info(folder)
    return info.epochs_completed >= info.training.epochs


def missing_entries(home: Path, entries: list[ZooEntry]) -> list[ZooEntry]:
    return [entry for entry in entries if not is_complete(models_root(home) / entry.model_id)]


def train_zoo(
    home: Path,
    entries: list[ZooEntry],
    train_digits: Digits,
    test_digits: Digits,
    *,
    progress: bool = True,
) -> list[CheckpointInfo]:
    """Train what is missing of `entries` under `home`; a partly trained model resumes where it stopped."""
    trained = []
    for entry in missing_entries(home, entries):
        trained.append(
            train(
                models_root(home) / entry.model_id,
                model_id=entry.model_id,
                title=entry.title,
                model_config=entry.model,
                config=entry.training,
                train_digits=train_digits,
                test_digits=test_digits,
                resume=True,
                progress=progress,
            )
        )
    return trained
