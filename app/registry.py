"""The registry of served models: every model folder under the home, loaded once on one device, with the
reason for each one that could not be loaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from app.served_model import ServedModel
from model.data import Digits, Split
from model.device import resolve_device
from model.home import models_root
from model.inference import CheckpointError, LoadedModel
from model.zoo import DEFAULT_ZOO

log = logging.getLogger("latent_atlas")
ZOO_ORDER = [entry.model_id for entry in DEFAULT_ZOO]  # the default models first, in the tutorial's order


@dataclass
class ModelRegistry:
    models: dict[str, ServedModel]
    failures: dict[str, str]  # model id -> why it could not be loaded
    data: dict[Split, Digits]  # the splits the models are mapped and evaluated on
    device: torch.device

    @classmethod
    def load(cls, home: Path, data: dict[Split, Digits], device: str) -> ModelRegistry:
        """Load every model folder under the home's models/; a damaged one is skipped with its reason."""
        resolved = resolve_device(device)
        models: dict[str, ServedModel] = {}
        failures: dict[str, str] = {}
        folders = sorted(
            (p for p in models_root(home).glob("*") if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: (ZOO_ORDER.index(p.name) if p.name in ZOO_ORDER else len(ZOO_ORDER), p.name),
        )
        for folder in folders:
            try:
                loaded = LoadedModel.load(folder, device)
            except CheckpointError as error:
                log.warning("skipping model %s: %s", folder.name, error)
                failures[folder.name] = str(error)
                continue
            models[folder.name] = ServedModel.build(loaded, data["test"])
        return cls(models=models, failures=failures, data=data, device=resolved)
