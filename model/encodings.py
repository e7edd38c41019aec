"""A split's encodings (q(z|x)'s mean and standard deviation per image), cached in the model folder as
encodings/<split>.safetensors: a large split is encoded once, not by every server process or start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from model.tensor_cache import read_cached, write_cached


@dataclass(frozen=True)
class EncodingsKey:
    """What cached encodings must match to be reused: the weights, the data set, the split and its size."""

    weights: str
    dataset: str
    split: str
    points: int

    def metadata(self) -> dict[str, str]:
        return {"key": json.dumps(vars(self), sort_keys=True)}

    def path(self, folder: Path) -> Path:
        return folder / "encodings" / f"{self.split}.safetensors"


def read_encodings(folder: Path, key: EncodingsKey) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The cached (mu, sigma) [N, D] that `key` names, or None (none cached, or another's)."""
    cached = read_cached(key.path(folder), key.metadata(), ("mu", "sigma"))
    if cached is None or len(cached["mu"]) != key.points or cached["mu"].shape != cached["sigma"].shape:
        return None
    return cached["mu"], cached["sigma"]


def write_encodings(folder: Path, key: EncodingsKey, mu: torch.Tensor, sigma: torch.Tensor) -> None:
    """Cache (mu, sigma) [N, D], written whole."""
    write_cached(key.path(folder), {"mu": mu, "sigma": sigma}, key.metadata())
