"""Caches beside a model (planes, per-point metrics, encodings): a safetensors file of named tensors whose
metadata says what they were computed from, written whole, and read back only when that still matches."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from model.storage import write_file_atomically


def read_cached(
    path: Path, metadata: dict[str, str], names: tuple[str, ...]
) -> dict[str, torch.Tensor] | None:
    """The tensors `names` of the cache at `path`, or None: none there, one computed from something else
    (other metadata), missing one of them, or unreadable (computed again, then written whole)."""
    try:
        with safe_open(str(path), framework="pt") as file:
            if file.metadata() != metadata:
                return None
            # Copied out of the file's memory map: a file cut short under a live mapping would crash the
            # process on the next read (SIGBUS), not raise.
            return {name: file.get_tensor(name).clone() for name in names}
    except (OSError, KeyError, SafetensorError):
        return None


def write_cached(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Cache the tensors with their metadata, written whole (a reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    contiguous = {name: tensor.contiguous() for name, tensor in tensors.items()}
    write_file_atomically(path, save(contiguous, metadata=metadata))
