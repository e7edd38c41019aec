"""A split's cached encodings: read back exactly, never for other weights or another split's size."""

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
