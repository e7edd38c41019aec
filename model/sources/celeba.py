"""CelebA at 64x64: 202,599 aligned face photographs through torchvision's files, each centre-cropped to the
148x148 square around the face and resized to 64x64 (the crop of most CelebA VAEs), labelled by its
"Smiling" attribute. torchvision fetches the files from Google Drive (with gdown); offline, --data-dir is a
folder holding the published files (img_align_celeba.zip and the five lists), each checked against the md5
torchvision publishes for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from model.data import Dataset, DatasetInfo, ImageSet
from model.sources.torchvision_sets import copy_published, unavailable

KEY = "celeba"
SIDE = 64
CROP = 148  # the square kept around an aligned face (of 178 x 218) before resizing
ATTRIBUTE = "Smiling"  # the label: one of CelebA's 40 binary attributes, one a map shows at a glance
INFO = DatasetInfo(
    key=KEY,
    title="CelebA faces (64x64)",
    image_shape=(3, SIDE, SIDE),
    class_names=("not smiling", "smiling"),
    preprocessing="resize",
    note="labelled by CelebA's Smiling attribute",
)
SPLITS = ("train", "test")  # torchvision's; its "valid" split is left out


def published_files() -> dict[str, str]:
    """File name -> md5, as torchvision publishes them."""
    from torchvision.datasets import CelebA  # imported here: torchvision costs ~2 s of start-up

    return {name: md5 for _, md5, name in CelebA.file_list}


def how_to_provide() -> str:
    return (
        f"Provide {INFO.title} one of these ways: connect to the internet with gdown installed (torchvision "
        "downloads it from Google Drive), or pass --data-dir DIR, a folder holding the published "
        + ", ".join(published_files())
        + "."
    )


def _face(path: Path) -> np.ndarray:
    """An aligned photograph -> [3, 64, 64] uint8: the centre 148 x 148 square, resized."""
    with Image.open(path) as image:
        width, height = image.size
        left, top = (width - CROP) // 2, (height - CROP) // 2
        square = image.convert("RGB").crop((left, top, left + CROP, top + CROP))
        return np.asarray(square.resize((SIDE, SIDE), Image.Resampling.BILINEAR)).transpose(2, 0, 1)


def build(data_root: Path, data_dir: Path | None = None) -> Dataset:
    """Download (or take from `data_dir`) and read CelebA under data_root/celeba, faces at 64x64."""
    from torchvision.datasets import CelebA
    from torchvision.datasets.utils import extract_archive

    folder = data_root / CelebA.base_folder
    if data_dir is not None:
        copy_published(published_files(), data_dir, folder, how_to_provide())
        extract_archive(str(folder / "img_align_celeba.zip"))
    splits = []
    for split in SPLITS:
        try:
            loaded = CelebA(data_root, split=split, target_type="attr", download=True)
        except Exception as error:  # offline (no gdown, no network), or a damaged file
            raise unavailable(INFO.title, error, how_to_provide()) from error
        images = folder / "img_align_celeba"
        faces = [
            _face(images / name)
            for name in tqdm(loaded.filename, desc=f"CelebA {split}", unit="face", disable=None)
        ]
        labels = loaded.attr[:, loaded.attr_names.index(ATTRIBUTE)].to(torch.int64)
        splits.append(ImageSet(torch.from_numpy(np.stack(faces)), labels))
    return Dataset(INFO, splits[0], splits[1])
