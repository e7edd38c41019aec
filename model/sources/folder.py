"""`folder:PATH`: your own images. One subfolder per class (optionally under train/ and test/, else a
seeded 1/6 of each class is held out for testing), or the images straight in PATH for an unlabelled set.
Any format Pillow reads, any size, grayscale or colour, resized and centre-cropped to a square side."""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from model.data import Dataset, DatasetInfo, ImageSet
from model.framing import fit_square

TEST_FRACTION = 1 / 6
SPLIT_SEED = 0
DEFAULT_SIZE = {1: 28, 3: 32}  # grayscale like MNIST, colour like CIFAR
UNLABELLED = "images"


class FolderError(ValueError):
    """The folder cannot make a data set; the message says why and what would."""


def folder_key(path: Path, image_size: int | None) -> str:
    """A prepared-folder name unique to the path and size: `folder-<name>-<hash>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.name.lower()).strip("-")[:32] or "images"
    digest = hashlib.sha256(f"{path.resolve()}|{image_size}".encode()).hexdigest()[:8]
    return f"folder-{slug}-{digest}"


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _class_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read(path: Path) -> np.ndarray | None:
    """[H, W, 3] uint8, or None when Pillow cannot read the file (not an image, truncated, a bomb)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


def _labelled_files(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    classes = _class_folders(root)
    if not classes:
        return [UNLABELLED], [(path, 0) for path in _image_files(root)]
    if len(classes) == 1:
        raise FolderError(
            f"{root} has one class folder ({classes[0].name}): labels need two or more; "
            "for an unlabelled set, put the images straight in the folder"
        )
    names = [folder.name for folder in classes]
    return names, [(path, label) for label, folder in enumerate(classes) for path in _image_files(folder)]


def build(path: Path, image_size: int | None = None) -> tuple[Dataset, dict[str, int]]:
    """The data set in `path`, and counts of what was read (`images`) and skipped (`unreadable`)."""
    if not path.is_dir():
        raise FolderError(f"{path} is not a folder")
    split_roots = [path / "train", path / "test"]
    if all(root.is_dir() for root in split_roots):
        (names, train_files), (test_names, test_files) = (_labelled_files(root) for root in split_roots)
        if test_names != names:
            raise FolderError(
                f"{path}/test has classes {test_names}, {path}/train has {names}: they must match"
            )
    else:
        names, files = _labelled_files(path)
        order = torch.randperm(len(files), generator=torch.Generator().manual_seed(SPLIT_SEED)).tolist()
        held = round(len(files) * TEST_FRACTION)
        test_files, train_files = [files[i] for i in order[:held]], [files[i] for i in order[held:]]
    if not train_files and not test_files:
        raise FolderError(f"{path} holds no files: put images in one subfolder per class")
    read = [_read(file) for file, _ in (*train_files, *test_files)]
    unreadable = sum(pixels is None for pixels in read)
    good = [pixels for pixels in read if pixels is not None]
    if not good:
        raise FolderError(f"{path}: none of its {unreadable} files is an image Pillow can read")
    channels = (
        1 if all((p[..., 0] == p[..., 1]).all() and (p[..., 1] == p[..., 2]).all() for p in good) else 3
    )
    size = image_size or DEFAULT_SIZE[channels]
    if size < 8 or size > 256:
        raise FolderError(f"--image-size must be between 8 and 256, got {size}")

    def image_set(entries: list[tuple[Path, int]], pixels: list[np.ndarray | None]) -> ImageSet:
        kept = [
            (image, label) for (_, label), image in zip(entries, pixels, strict=True) if image is not None
        ]
        squares = np.stack(
            [np.asarray(fit_square(Image.fromarray(image), size)) for image, _ in kept]
            or [np.zeros((size, size, 3), np.uint8)]
        )
        images = torch.from_numpy(squares[: len(kept)]).permute(0, 3, 1, 2)[:, :channels].contiguous()
        return ImageSet(images, torch.tensor([label for _, label in kept], dtype=torch.long))

    train = image_set(train_files, read[: len(train_files)])
    test = image_set(test_files, read[len(train_files) :])
    if not len(train) or not len(test):
        raise FolderError(
            f"{path}: after skipping unreadable files, "
            f"the {'train' if not len(train) else 'test'} split is empty"
        )
    info = DatasetInfo(
        key=folder_key(path, image_size),
        title=path.resolve().name,
        image_shape=(channels, size, size),
        class_names=tuple(names),
        preprocessing="resize",
        labelled=names != [UNLABELLED],
    )
    return Dataset(info, train, test), {"images": len(good), "unreadable": unreadable}
