"""A model is a folder: JSON beside safetensors, written atomically, loaded without unpickling code.

Folder layout (FORMAT_VERSION 1):
  config.json          format version, id, title, model + training config, data set and fingerprint,
                       test metrics, epochs completed, library versions, times
  model.safetensors    the VAE's weights
  history.json         one record of train and test metrics per epoch
  latents.safetensors  `indices` [K] of a fixed test subset and their latent means `mu` [E, K, D]
  training_state.pt    optimizer and RNG states for --resume (tensors only: loaded weights_only), and
                       a FactorVAE's discriminator
"""

from __future__ import annotations

import io
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from model.config import (
    ModelConfig,
    TrainConfig,
    model_config_from_dict,
    to_dict,
    train_config_from_dict,
)
from model.data import DatasetInfo
from model.sources import mnist
from model.storage import file_fingerprint, readable_folder, replace_folder
from model.vae import VAE

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
HISTORY_FILE = "history.json"
LATENTS_FILE = "latents.safetensors"
TRAINING_STATE_FILE = "training_state.pt"
CHECKPOINT_FILES = (CONFIG_FILE, WEIGHTS_FILE, HISTORY_FILE, LATENTS_FILE, TRAINING_STATE_FILE)


class CheckpointError(ValueError):
    """A model folder that cannot be loaded; the message names the folder and the file."""


@dataclass(frozen=True, kw_only=True)
class CheckpointInfo:
    """What config.json says about a model."""

    model_id: str
    title: str
    model_config: ModelConfig
    train_config: TrainConfig
    data: dict[str, Any]
    metrics: dict[str, Any]
    epochs_completed: int
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""

    @property
    def dataset(self) -> DatasetInfo:
        """The data set it was trained on; folders saved before data sets were named are MNIST's."""
        recorded = self.data.get("dataset")
        return DatasetInfo.from_dict(recorded) if recorded is not None else mnist.INFO

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "id": self.model_id,
            "title": self.title,
            "model": to_dict(self.model_config),
            "training": to_dict(self.train_config),
            "data": self.data,
            "metrics": self.metrics,
            "epochs_completed": self.epochs_completed,
            "versions": self.versions,
            "created": self.created,
            "saved": datetime.now(UTC).isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class LatentSnapshots:
    """Latent means of a fixed test subset after the epochs kept (model.train.snapshot_epochs): indices [K],
    mu [E, K, D], epochs [E]."""

    indices: torch.Tensor
    mu: torch.Tensor
    epochs: torch.Tensor


@dataclass(frozen=True)
class TrainingState:
    """What --resume needs beyond the weights."""

    optimizer: dict[str, Any]
    shuffle_rng: torch.Tensor
    noise_rng: torch.Tensor
    discriminator: dict[str, torch.Tensor] | None = None  # FactorVAE's discriminator's weights


def library_versions() -> dict[str, str]:
    try:
        own = metadata.version("latent-atlas")
    except metadata.PackageNotFoundError:
        own = "unknown"
    return {"latent_atlas": own, "torch": torch.__version__, "python": platform.python_version()}


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode()


def save_checkpoint(
    folder: Path,
    *,
    info: CheckpointInfo,
    network: VAE,
    history: Sequence[Mapping[str, Any]],
    latents: LatentSnapshots,
    training_state: TrainingState,
) -> None:
    """Write the whole folder so that a reader sees the previous checkpoint or this one, never a mix."""

    def fill(staging: Path) -> None:
        weights = {name: t.detach().cpu().contiguous() for name, t in network.state_dict().items()}
        save_file(weights, str(staging / WEIGHTS_FILE), metadata={"format_version": str(FORMAT_VERSION)})
        save_file(
            {name: getattr(latents, name).cpu().contiguous() for name in ("indices", "mu", "epochs")},
            str(staging / LATENTS_FILE),
        )
        buffer = io.BytesIO()
        torch.save(
            {
                "optimizer": training_state.optimizer,
                "shuffle_rng": training_state.shuffle_rng.cpu(),
                "noise_rng": training_state.noise_rng.cpu(),
                **(
                    {}
                    if training_state.discriminator is None
                    else {"discriminator": {k: t.cpu() for k, t in training_state.discriminator.items()}}
                ),
            },
            buffer,
        )
        (staging / TRAINING_STATE_FILE).write_bytes(buffer.getvalue())
        (staging / HISTORY_FILE).write_bytes(_json_bytes(history))
        (staging / CONFIG_FILE).write_bytes(_json_bytes(info.to_json()))

    replace_folder(folder, fill)


def _require(folder: Path, name: str) -> Path:
    path = readable_folder(folder) / name
    if not path.is_file():
        raise CheckpointError(f"model folder {folder}: {name} is missing")
    return path


def _read_json(folder: Path, name: str) -> Any:
    path = _require(folder, name)
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"model folder {folder}: {name} is truncated or corrupt ({error})") from error


def load_info(folder: Path) -> CheckpointInfo:
    """Read config.json; raise CheckpointError naming the file if it is missing or not a valid config."""
    folder = readable_folder(folder)
    if not folder.is_dir():
        raise CheckpointError(f"model folder {folder} does not exist")
    data = _read_json(folder, CONFIG_FILE)
    try:
        version = data["format_version"]
        if version != FORMAT_VERSION:
            raise CheckpointError(
                f"model folder {folder}: {CONFIG_FILE} has format_version {version}, "
                f"this version of Latent Atlas reads {FORMAT_VERSION}"
            )
        return CheckpointInfo(
            model_id=data["id"],
            title=data["title"],
            model_config=model_config_from_dict(data["model"]),
            train_config=train_config_from_dict(data["training"]),
            data=data["data"],
            metrics=data["metrics"],
            epochs_completed=data["epochs_completed"],
            versions=data.get("versions", {}),
            created=data.get("created", ""),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(
            f"model folder {folder}: {CONFIG_FILE} is not a valid config ({error!r})"
        ) from error


def _load_tensors(folder: Path, name: str) -> dict[str, torch.Tensor]:
    path = _require(folder, name)
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"model folder {folder}: {name} is truncated or corrupt ({error})") from error


def weights_fingerprint(folder: Path) -> str:
    """Of the model's weights file: what a cached evaluation of it is keyed by."""
    return file_fingerprint(readable_folder(folder) / WEIGHTS_FILE)


def load_network(folder: Path, device: torch.device | str = "cpu") -> tuple[CheckpointInfo, VAE]:
    """Rebuild the VAE from config.json and model.safetensors, in eval mode on `device`."""
    info = load_info(folder)
    weights = _load_tensors(folder, WEIGHTS_FILE)
    network = VAE(info.model_config)
    try:
        network.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        reason = " ".join(str(error).split())[:400]
        raise CheckpointError(
            f"model folder {folder}: {WEIGHTS_FILE} does not match the architecture in {CONFIG_FILE} "
            f"({reason})"
        ) from error
    return info, network.to(device).eval()


def load_history(folder: Path) -> list[dict[str, Any]]:
    history = _read_json(folder, HISTORY_FILE)
    if not isinstance(history, list):
        raise CheckpointError(f"model folder {folder}: {HISTORY_FILE} is not a list of epochs")
    return history


def load_latents(folder: Path) -> LatentSnapshots:
    tensors = _load_tensors(folder, LATENTS_FILE)
    try:
        # Checkpoints from before thinning kept every epoch and said so by their number.
        epochs = tensors.get("epochs", torch.arange(1, len(tensors["mu"]) + 1))
        return LatentSnapshots(indices=tensors["indices"], mu=tensors["mu"], epochs=epochs)
    except KeyError as error:
        raise CheckpointError(f"model folder {folder}: {LATENTS_FILE} lacks {error}") from error


def load_training_state(folder: Path) -> TrainingState:
    path = _require(folder, TRAINING_STATE_FILE)
    try:
        # weights_only: a checkpoint is data, never code (torch CVE-2025-32434).
        state = torch.load(path, map_location="cpu", weights_only=True)
        return TrainingState(
            optimizer=state["optimizer"],
            shuffle_rng=state["shuffle_rng"],
            noise_rng=state["noise_rng"],
            discriminator=state.get("discriminator"),
        )
    except Exception as error:  # torch raises many types for a damaged zip; each means the same here
        raise CheckpointError(
            f"model folder {folder}: {TRAINING_STATE_FILE} is truncated or corrupt ({error})"
        ) from error
