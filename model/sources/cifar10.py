"""CIFAR-10: 60,000 colour photographs of 32x32 in ten classes, through torchvision's downloader. Offline,
from --data-dir: a folder holding the published cifar-10-python.tar.gz, checked against the md5 torchvision
publishes for it, then extracted by torchvision (which checks each batch file's md5 too)."""

from __future__ import annotations

from pathlib import Path

import torch

from model.data import Dataset, DatasetInfo, ImageSet
from model.sources.torchvision_sets import copy_published, unavailable

KEY = "cifar10"
INFO = DatasetInfo(
    key=KEY,
    title="CIFAR-10 colour photographs",
    image_shape=(3, 32, 32),
    class_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    preprocessing="resize",
)


def published_files() -> dict[str, str]:
    """File name -> md5, as torchvision publishes them."""
    from torchvision.datasets import CIFAR10  # imported here: torchvision costs ~2 s of start-up

    return {CIFAR10.filename: CIFAR10.tgz_md5}


def how_to_provide() -> str:
    return (
        f"Provide {INFO.title} one of these ways: connect to the internet (torchvision downloads it), "
        f"or pass --data-dir DIR, a folder holding the published {', '.join(published_files())}."
    )


def build(data_root: Path, data_dir: Path | None = None) -> Dataset:
    """Download (or take from `data_dir`) and read CIFAR-10 under data_root: images [N, 3, 32, 32] uint8."""
    from torchvision.datasets import CIFAR10

    if data_dir is not None:
        copy_published(published_files(), data_dir, data_root, how_to_provide())
    splits = []
    for train in (True, False):
        try:
            loaded = CIFAR10(data_root, train=train, download=True)
        except Exception as error:  # offline, or a damaged file torchvision could not fetch again
            raise unavailable(INFO.title, error, how_to_provide()) from error
        images = torch.from_numpy(loaded.data).permute(0, 3, 1, 2).contiguous()  # stored [N, H, W, C]
        splits.append(ImageSet(images, torch.tensor(loaded.targets, dtype=torch.int64)))
    return Dataset(INFO, splits[0], splits[1])
