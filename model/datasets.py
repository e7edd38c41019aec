"""The data sets by name: which source builds each one, and the prepared copy under the home (data/<key>/)
that every later use reads. Data sets are named on the command line only: no path comes from the web."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from model.data import (
    Dataset,
    DatasetInfo,
    DataUnavailableError,
    load_prepared,
    prepared_source,
    save_prepared,
)
from model.sources import celeba, characters, cifar10, folder, mnist, sprites, torchvision_sets, ujipen

DATASET_NAMES: tuple[str, ...] = (
    "mnist",
    *torchvision_sets.SETS,
    cifar10.KEY,
    celeba.KEY,
    "characters",
    characters.MILLION_KEY,
    "ujipen",
    sprites.KEY,
    sprites.SMALL_KEY,
)
FOLDER_PREFIX = "folder:"
DATASET_HELP = ", ".join(DATASET_NAMES) + ", or folder:PATH (one subfolder of images per class)"


def folder_path(name: str) -> Path | None:
    """PATH of a `folder:PATH` name, else None."""
    return Path(name[len(FOLDER_PREFIX) :]).expanduser() if name.startswith(FOLDER_PREFIX) else None


def check_dataset_name(name: str, image_size: int | None = None) -> str:
    """`name` if it names a data set; ValueError listing the names otherwise."""
    if folder_path(name) is None:
        if name not in DATASET_NAMES:
            raise ValueError(f"unknown data set {name!r}: use {DATASET_HELP}")
        if image_size is not None:
            raise ValueError(
                "an image size (--image-size, image_size=) applies to folder: data sets; "
                f"{name} has its own size"
            )
    return name


def dataset_key(name: str, image_size: int | None = None) -> str:
    """The prepared folder's name (and what checkpoints record) for a data set name."""
    path = folder_path(check_dataset_name(name, image_size))
    return name if path is None else folder.folder_key(path, image_size)


def _listing_signature(path: Path) -> str:
    """Changes when any file under `path` is added, removed, resized or touched."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _build(
    name: str, data_root: Path, data_dir: Path | None, image_size: int | None
) -> tuple[Dataset, dict[str, Any]]:
    path = folder_path(name)
    if path is not None:
        dataset, counts = folder.build(path, image_size)
        return dataset, {"folder": str(path.resolve()), "listing": _listing_signature(path), **counts}
    if name == "mnist":
        return mnist.build(data_root, data_dir), {"files": "MNIST IDX files, md5-verified"}
    if name in torchvision_sets.SETS:
        return torchvision_sets.build(name, data_root, data_dir), {"files": "torchvision, md5-verified"}
    if name == cifar10.KEY:
        return cifar10.build(data_root, data_dir), {"files": "torchvision, md5-verified"}
    if name == celeba.KEY:
        return celeba.build(data_root, data_dir), {
            "files": f"torchvision, md5-verified, {celeba.CROP} px crop"
        }
    if name == "characters":
        return characters.build(), {"renderer": f"Hershey fonts, seed {characters.SEED}"}
    if name in sprites.GRIDS:
        return sprites.build(sprites.GRIDS[name]), {
            "renderer": f"dSprites' factor grid, test split seed {sprites.SEED}"
        }
    if name == characters.MILLION_KEY:
        return characters.build_million(), {"renderer": f"Hershey fonts, seed {characters.SEED}, in chunks"}
    return ujipen.build(data_root, data_dir), {"files": ujipen.TEXT_NAME}


def open_dataset(
    name: str, data_root: Path, *, data_dir: Path | None = None, image_size: int | None = None
) -> tuple[Dataset, dict[str, Any]]:
    """The data set `name`, with what its prepared folder says of its source: the prepared copy when
    there is one (for a folder, when no file in it changed since), else built from its source and
    prepared. DataUnavailableError names every way to provide files that cannot be had; a folder that
    cannot make a data set raises folder.FolderError (a ValueError)."""
    key = dataset_key(name, image_size)
    path = folder_path(name)
    source = prepared_source(data_root, key)
    if source is not None and (path is None or source.get("listing") == _listing_signature(path)):
        try:
            return load_prepared(data_root, key), source
        except DataUnavailableError:
            pass  # damaged: rebuilt below
    dataset, source = _build(name, data_root, data_dir, image_size)
    save_prepared(data_root, dataset, source)
    return dataset, source


def open_recorded(info: DatasetInfo, data_root: Path, data_dir: Path | None = None) -> Dataset:
    """The data set a checkpoint records: a named one is fetched or built again if need be; a folder's
    is its prepared copy (the folder itself may have moved)."""
    if info.key in DATASET_NAMES:
        return open_dataset(info.key, data_root, data_dir=data_dir)[0]
    return load_prepared(data_root, info.key)
