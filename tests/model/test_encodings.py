"""A split's cached encodings: read back exactly, never for other weights or another split's size, and a
damaged file read as none."""

import subprocess
import sys
from pathlib import Path

import torch

from model.encodings import EncodingsKey, read_encodings, write_encodings


def test_encodings_are_read_back_only_for_what_they_were_computed_from(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    mu, sigma = torch.randn(50, 16, generator=generator), torch.rand(50, 16, generator=generator)
    key = EncodingsKey("weights-a", "mnist", "train", 50)
    assert read_encodings(tmp_path, key) is None
    write_encodings(tmp_path, key, mu, sigma)
    found = read_encodings(tmp_path, key)
    assert found is not None and torch.equal(found[0], mu) and torch.equal(found[1], sigma)
    assert sorted(p.name for p in (tmp_path / "encodings").iterdir()) == ["train.safetensors"]  # whole
    assert read_encodings(tmp_path, EncodingsKey("weights-b", "mnist", "train", 50)) is None
    assert read_encodings(tmp_path, EncodingsKey("weights-a", "mnist", "train", 60)) is None


def test_a_damaged_cache_is_read_as_none(tmp_path: Path) -> None:
    key = EncodingsKey("weights-a", "mnist", "test", 50)
    write_encodings(tmp_path, key, torch.zeros(50, 2), torch.ones(50, 2))
    path = key.path(tmp_path)
    path.write_bytes(path.read_bytes()[:60])
    assert read_encodings(tmp_path, key) is None
    path.write_bytes(b"\xff" * 16)
    assert read_encodings(tmp_path, key) is None


READ_THEN_CUT_SHORT = """
import sys, pathlib, torch
from model.encodings import EncodingsKey, read_encodings, write_encodings
folder, key = pathlib.Path(sys.argv[1]), EncodingsKey("weights-a", "mnist", "train", 100_000)
write_encodings(folder, key, torch.ones(100_000, 16), torch.ones(100_000, 16))
mu, sigma = read_encodings(folder, key)
key.path(folder).write_bytes(b"")
print(float(mu.sum() + sigma.sum()))
"""


def test_encodings_read_back_outlive_their_file(tmp_path: Path) -> None:
    """A cache file cut short while its tensors are in use (by hand, or by another program) leaves them
    whole: read through a memory map, the process would die of SIGBUS at their next use."""
    run = subprocess.run(
        [sys.executable, "-c", READ_THEN_CUT_SHORT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert float(run.stdout) == 2 * 100_000 * 16
