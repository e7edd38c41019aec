"""Fashion-MNIST, Kuzushiji-MNIST and EMNIST letters through torchvision's downloaders. Offline, from
--data-dir: a folder holding the published files (Fashion-MNIST's and KMNIST's four .gz files, EMNIST's
gzip.zip), each checked against the md5 torchvision publishes for it, then extracted by torchvision."""

from __future__ import annotations

import shutil
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.data import Dataset, DatasetInfo, DataUnavailableError, ImageSet, Preprocessing


@dataclass(frozen=True)
class TorchvisionSet:
    key: str
    title: str
    class_name: str  # in torchvision.datasets
    class_names: tuple[str, ...]
    preprocessing: Preprocessing
    emnist_split: str | None = None
    # EMNIST's files hold each image transposed, and its letters count from 1 ("N/A" is class 0).
    transposed: bool = False
    label_offset: int = 0

    def info(self) -> DatasetInfo:
        return DatasetInfo(
            key=self.key,
            title=self.title,
            image_shape=(1, 28, 28),
            class_names=self.class_names,
            preprocessing=self.preprocessing,
        )


SETS: dict[str, TorchvisionSet] = {
    spec.key: spec
    for spec in (
        TorchvisionSet(
            "fashion-mnist",
            "Fashion-MNIST clothing",
            "FashionMNIST",
            (
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ),
            "object",
        ),
        TorchvisionSet(
            "kmnist",
            "Kuzushiji-MNIST cursive Japanese",
            "KMNIST",
            ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
            "ink",
        ),
        TorchvisionSet(
            "emnist-letters",
            "EMNIST handwritten letters",
            "EMNIST",
            tuple(
                f"{upper}{lower}"
                for upper, lower in zip(string.ascii_uppercase, string.ascii_lowercase, strict=True)
            ),
            "ink",
            emnist_split="letters",
            transposed=True,
            label_offset=1,
        ),
    )
}


def published_files(spec: TorchvisionSet) -> dict[str, str]:
    """File name -> md5, as torchvision publishes them for this data set."""
    from torchvision import datasets  # imported here: torchvision costs ~2 s of start-up

    dataset_class: Any = getattr(datasets, spec.class_name)
    if spec.emnist_split is not None:
        return {Path(dataset_class.url).name: dataset_class.md5}
    return {name: md5 for name, md5 in dataset_class.resources}


def how_to_provide(spec: TorchvisionSet) -> str:
    return (
        f"Provide {spec.title} one of these ways: connect to the internet (torchvision downloads it), "
        "or pass --data-dir DIR, a folder holding the published files "
        + ", ".join(published_files(spec))
        + "."
    )


def copy_published(files: dict[str, str], data_dir: Path, destination: Path, how: str) -> None:
    """Copy the published `files` (name -> md5) found in `data_dir` to where torchvision looks, refusing any
    whose md5 is not the published one (torchvision would quietly try to download it again); `how` says
    every way to provide them."""
    from torchvision.datasets.utils import calculate_md5

    destination.mkdir(parents=True, exist_ok=True)
    for name, expected in files.items():
        supplied = data_dir / name
        if not supplied.is_file():
            raise DataUnavailableError(f"{data_dir} has no {name}. {how}")
        actual = calculate_md5(supplied)
        if actual != expected:
            raise DataUnavailableError(f"{supplied} is corrupted: md5 {actual}, expected {expected}")
        shutil.copyfile(supplied, destination / name)


def unavailable(title: str, error: Exception, how: str) -> DataUnavailableError:
    """What torchvision raised offline (RuntimeError, URLError or OSError), as one message with every way."""
    reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return DataUnavailableError(f"{title} is not available (torchvision: {reason}). {how}")


def build(key: str, data_root: Path, data_dir: Path | None = None) -> Dataset:
    """Download (or take from `data_dir`) and read one of SETS under data_root/<torchvision's folder>."""
    from torchvision import datasets

    spec = SETS[key]
    dataset_class: Any = getattr(datasets, spec.class_name)
    options = {} if spec.emnist_split is None else {"split": spec.emnist_split}
    if data_dir is not None:
        copy_published(
            published_files(spec), data_dir, data_root / spec.class_name / "raw", how_to_provide(spec)
        )
    splits = []
    for train in (True, False):
        try:
            loaded = dataset_class(data_root, train=train, download=True, **options)
        except Exception as error:  # torchvision raises RuntimeError, URLError or OSError when offline
            raise unavailable(spec.title, error, how_to_provide(spec)) from error
        images = loaded.data.transpose(1, 2) if spec.transposed else loaded.data
        splits.append(ImageSet(images.unsqueeze(1).contiguous(), loaded.targets.long() - spec.label_offset))
    return Dataset(spec.info(), splits[0], splits[1])
