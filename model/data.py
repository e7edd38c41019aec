"""What a data set is to Latent Atlas: two splits of images as in-memory tensors and what is known of
them (shape, class names, how an upload is made to look like them), kept prepared under the home.

Every source (model/sources/) ends in the same prepared folder, data/<key>/:
  dataset.json          the DatasetInfo and where the images came from
  train.safetensors     images [N, C, H, W] uint8, labels [N] int64
  test.safetensors
written whole or not at all, so serving reads milliseconds of tensors and never the original files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from model.config import TrainConfig
from model.storage import readable_folder, replace_folder

Split = Literal["train", "test"]
SPLITS: tuple[Split, ...] = ("train", "test")
MapSplit = Literal["test", "train", "all"]  # what a latent map shows; "all": the test split, then training
# How an uploaded or drawn image is made to look like the data set's images (app/preprocess.py):
#   ink:    handwriting, framed as MNIST's digits were (ink box scaled into the frame, centre of mass centred)
#   object: a thing on a plain background, as Fashion-MNIST was made (light on dark, longest side fitted)
#   resize: a photograph, resized whole to the data set's size
Preprocessing = Literal["ink", "object", "resize"]
PREPROCESSINGS: tuple[str, ...] = get_args(Preprocessing)
INFO_FILE = "dataset.json"
BINARIZE_SEED = 0  # of the binarized test set: one seed, so every evaluation sees the same images


class DataUnavailableError(RuntimeError):
    """No source could provide the data set; the message names every way to provide it."""


class SourceFailed(Exception):
    """One source could not provide the files; the next one is tried."""


@dataclass(frozen=True)
class ImageSet:
    """One split. images: [N, C, H, W] uint8, labels: [N] int64; for a set of known factors of variation,
    factors: [N, K] int64, each image's value of each factor (an index into DatasetInfo.factors' values)."""

    images: torch.Tensor
    labels: torch.Tensor
    factors: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != torch.uint8:
            raise ValueError(
                f"images must be [N, C, H, W] uint8, got {list(self.images.shape)} {self.images.dtype}"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels must be [{self.images.shape[0]}], got {list(self.labels.shape)}")
        if self.factors is not None and (self.factors.ndim != 2 or len(self.factors) != len(self.labels)):
            raise ValueError(f"factors must be [{len(self.labels)}, K], got {list(self.factors.shape)}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        channels, height, width = self.images.shape[1:]
        return int(channels), int(height), int(width)

    def pixels(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The whole split as one float tensor [N, C*H*W] in [0, 1] on `device`."""
        return self.images.to(device).reshape(len(self), -1).float().div_(255.0)

    def binarized(self, seed: int = BINARIZE_SEED) -> ImageSet:
        """Every pixel drawn once as Bernoulli(intensity), seeded: images of 0 and 255 only. The test set a
        binarized model is evaluated on, the same on every run."""
        generator = torch.Generator().manual_seed(seed)
        ink = torch.bernoulli(self.images.float().div(255.0), generator=generator)
        return ImageSet(ink.to(torch.uint8).mul_(255), self.labels, self.factors)

    def head(self, limit: int | None) -> ImageSet:
        """The first `limit` images (all when None): a fixed slice for quick runs."""
        if limit is None:
            return self
        factors = None if self.factors is None else self.factors[:limit]
        return ImageSet(self.images[:limit], self.labels[:limit], factors)

    def fingerprint(self) -> str:
        """Of the pixels and labels only: the same images in [N, 28, 28] or [N, 1, 28, 28] match."""
        digest = hashlib.sha256(self.images.numpy().tobytes())
        digest.update(self.labels.numpy().tobytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Factor:
    """A known factor of variation of a data set's images and the values it takes, as they are named."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DatasetInfo:
    key: str  # the prepared folder's name and what checkpoints record: "mnist", "folder-cats-1a2b3c4d"
    title: str
    image_shape: tuple[int, int, int]  # channels, height, width
    class_names: tuple[str, ...]
    preprocessing: Preprocessing
    labelled: bool = True  # False: one folder of images, every label 0; class-based figures are empty
    note: str = ""  # said wherever the data set is shown, e.g. that it is synthetic
    # The known factors of variation (sprites' shape, scale, ...): each image's values are its label columns
    factors: tuple[Factor, ...] = ()

    def __post_init__(self) -> None:
        if self.preprocessing not in PREPROCESSINGS:
            raise ValueError(
                f"preprocessing must be one of {', '.join(PREPROCESSINGS)}, got {self.preprocessing!r}"
            )
        if not self.class_names:
            raise ValueError("a data set needs at least one class name")

    @property
    def drawable(self) -> bool:
        """Whether drawing with a pen makes an image like the data set's: handwriting does."""
        return self.preprocessing == "ink"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(
            **{
                **data,
                "image_shape": tuple(data["image_shape"]),
                "class_names": tuple(data["class_names"]),
                "factors": tuple(
                    Factor(factor["name"], tuple(factor["values"])) for factor in data.get("factors", ())
                ),
            }
        )


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    train: ImageSet
    test: ImageSet

    def __post_init__(self) -> None:
        for split in (self.train, self.test):
            if split.image_shape != self.info.image_shape:
                raise ValueError(
                    f"{self.info.key}: images are {split.image_shape}, info says {self.info.image_shape}"
                )
            if len(split) and int(split.labels.max()) >= len(self.info.class_names):
                raise ValueError(f"{self.info.key}: label {int(split.labels.max())} has no class name")
            sizes = torch.tensor([len(factor.values) for factor in self.info.factors])
            if (split.factors is None) != (not self.info.factors) or (
                split.factors is not None
                and (
                    split.factors.shape[1] != len(sizes)
                    or bool((split.factors.max(dim=0).values >= sizes).any())
                )
            ):
                raise ValueError(f"{self.info.key}: the images' factors do not match the info's")

    def split(self, name: Split) -> ImageSet:
        return self.train if name == "train" else self.test

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint records of the data it was trained on: resuming on other data is refused."""
        return {
            "name": self.info.key,
            "train_size": len(self.train),
            "test_size": len(self.test),
            "train_sha256": self.train.fingerprint(),
            "test_sha256": self.test.fingerprint(),
        }


def prepared_folder(data_root: Path, key: str) -> Path:
    return data_root / key


def save_prepared(data_root: Path, dataset: Dataset, source: dict[str, Any]) -> None:
    """Write the prepared folder whole; `source` records where the images came from."""

    def fill(staging: Path) -> None:
        for name in SPLITS:
            split = dataset.split(name)
            tensors = {"images": split.images.contiguous(), "labels": split.labels.contiguous()}
            if split.factors is not None:
                tensors["factors"] = split.factors.contiguous()
            save_file(tensors, str(staging / f"{name}.safetensors"))
        record = {**dataset.info.as_dict(), "source": source}
        (staging / INFO_FILE).write_text(json.dumps(record, indent=2) + "\n")

    replace_folder(prepared_folder(data_root, dataset.info.key), fill)


def prepared_source(data_root: Path, key: str) -> dict[str, Any] | None:
    """What the prepared folder says of its source, or None when there is no readable one."""
    try:
        record: dict[str, Any] = json.loads(
            (readable_folder(prepared_folder(data_root, key)) / INFO_FILE).read_text()
        )
        return dict(record.get("source", {}))
    except (OSError, ValueError):
        return None


def prepared_keys(data_root: Path) -> list[str]:
    """The keys of the data sets prepared under `data_root`, by name."""
    if not data_root.is_dir():
        return []
    names = {p.name.removeprefix(".").removesuffix(".old") for p in data_root.iterdir() if p.is_dir()}
    return sorted(n for n in names if (readable_folder(data_root / n) / INFO_FILE).is_file())


def load_prepared(data_root: Path, key: str) -> Dataset:
    """The prepared data set `key`; DataUnavailableError says how to prepare it when it is not there."""
    folder = readable_folder(prepared_folder(data_root, key))
    try:
        record = json.loads((folder / INFO_FILE).read_text())
        record.pop("source", None)
        info = DatasetInfo.from_dict(record)
        splits = {name: load_file(str(folder / f"{name}.safetensors")) for name in SPLITS}
        train, test = (
            ImageSet(splits[name]["images"], splits[name]["labels"], splits[name].get("factors"))
            for name in ("train", "test")
        )
        return Dataset(info, train, test)
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as error:
        raise DataUnavailableError(
            f"data set {key!r} is not prepared under {data_root} ({error}); "
            f"prepare it with `latent-atlas data --dataset {key}`"
        ) from error


def evaluated_split(test_set: ImageSet, config: TrainConfig | None) -> ImageSet:
    """The test images a model is measured on: binarized once (seeded) when it was trained on binarized
    data (`config`: its TrainConfig, or None for a model trained elsewhere), else as they are."""
    return test_set.binarized() if config is not None and config.binarized else test_set
