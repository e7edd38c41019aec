"""`ujipen`: UJI Pen Characters v2 (Prat et al., 2009; UCI, CC BY 4.0), the set the tutorial's Fig. 5
interpolates: 11,640 characters written on a tablet by 60 writers, stored as pen trajectories and drawn
here by the characters set's renderer. Its own trn_/tst_ writer split is kept.

The file (ujipenchars2.txt, inside the UCI archive) holds, per sample:
    WORD <char> <trn|tst>_<group>_W<writer>-<repetition>
      NUMSTROKES <n>
      POINTS <k> # x1 y1 x2 y2 ... (n such lines)
with `//` comment lines between samples."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import torch

from model.data import Dataset, DatasetInfo, DataUnavailableError, ImageSet
from model.sources.strokes import Jitter, render_strokes

ARCHIVE_URL = "https://archive.ics.uci.edu/static/public/177/uji+pen+characters+version+2.zip"
ARCHIVE_NAME = "uji+pen+characters+version+2.zip"
# sha256 of the UCI archive as recorded by independent users of it (UCI publishes no checksum).
ARCHIVE_SHA256 = "0881b522911b99d9922820289441b50fd3d307f71cd7f9cc70e86872424a5f90"
TEXT_NAME = "ujipenchars2.txt"
PEN_WIDTH = Jitter(rotation=0.0, shear=0.0, scale=0.0, point_noise=0.0, width=(2.0, 2.0))
HOW_TO_PROVIDE = (
    "Provide UJI Pen Characters one of these ways: connect to the internet (it is downloaded from UCI), "
    f"or pass --data-dir DIR, a folder holding {TEXT_NAME} or the UCI archive {ARCHIVE_NAME}."
)

Sample = tuple[str, str, list[np.ndarray]]  # character, writer id (trn_UJI_W01-01), strokes [K, 2]


def parse(text: str) -> list[Sample]:
    """Every sample of the file, in order; ValueError names the first line that breaks the format."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("//")]
    samples: list[Sample] = []
    at = 0
    try:
        while at < len(lines):
            word, char, writer = lines[at].split(maxsplit=2)
            if word != "WORD":
                raise ValueError(f"expected WORD, got {lines[at]!r}")
            keyword, count = lines[at + 1].split()
            if keyword != "NUMSTROKES":
                raise ValueError(f"expected NUMSTROKES, got {lines[at + 1]!r}")
            strokes = []
            for line in lines[at + 2 : at + 2 + int(count)]:
                head, _, values = line.partition("#")
                keyword, points = head.split()
                numbers = np.array(values.split(), dtype=np.float64)
                if keyword != "POINTS" or numbers.size != 2 * int(points):
                    raise ValueError(
                        f"expected POINTS {points} # and {2 * int(points)} numbers, got {line!r}"
                    )
                strokes.append(numbers.reshape(-1, 2))
            if len(strokes) != int(count):
                raise ValueError(f"{char} by {writer}: {count} strokes announced, {len(strokes)} found")
            samples.append((char, writer, strokes))
            at += 2 + int(count)
    except (IndexError, ValueError) as error:
        raise ValueError(
            f"{TEXT_NAME} is not in the UJI Pen Characters format near sample {len(samples) + 1}: {error}"
        ) from error
    return samples


def _read_text(path: Path) -> str:
    raw = zipfile.ZipFile(path).read(TEXT_NAME) if path.suffix == ".zip" else path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # some copies are Latin-1 (its Spanish letters)
        return raw.decode("latin-1")


def _check_archive(path: Path) -> None:
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != ARCHIVE_SHA256:
        raise DataUnavailableError(f"{path} is corrupted: sha256 {actual}, expected {ARCHIVE_SHA256}")


def locate(data_root: Path, data_dir: Path | None) -> Path:
    """The text file or archive to read: from `data_dir`, else the home's copy, else downloaded."""
    folder = data_root / "ujipen-raw"
    for candidate in ([data_dir / TEXT_NAME, data_dir / ARCHIVE_NAME] if data_dir else []) + [
        folder / ARCHIVE_NAME
    ]:
        if candidate.is_file():
            if candidate.suffix == ".zip":
                _check_archive(candidate)
            return candidate
    from torchvision.datasets.utils import download_url

    try:
        download_url(ARCHIVE_URL, str(folder), ARCHIVE_NAME)
    except Exception as error:  # URLError, OSError or RuntimeError when offline
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise DataUnavailableError(
            f"UJI Pen Characters is not available (download: {reason}). {HOW_TO_PROVIDE}"
        ) from error
    _check_archive(folder / ARCHIVE_NAME)
    return folder / ARCHIVE_NAME


def build(data_root: Path, data_dir: Path | None = None) -> Dataset:
    """Render every sample; writers marked trn_ make the training split, tst_ the test split."""
    samples = parse(_read_text(locate(data_root, data_dir)))
    classes = tuple(dict.fromkeys(char for char, _, _ in samples))
    rng = np.random.default_rng(0)  # unused by PEN_WIDTH's zero jitter; the renderer takes one
    splits = {}
    for prefix in ("trn_", "tst_"):
        chosen = [(char, strokes) for char, writer, strokes in samples if writer.startswith(prefix)]
        if not chosen:
            raise DataUnavailableError(f"{TEXT_NAME} has no {prefix} samples: is the file complete?")
        images = np.stack([render_strokes(strokes, rng, PEN_WIDTH) for _, strokes in chosen])
        labels = torch.tensor([classes.index(char) for char, _ in chosen])
        splits[prefix] = ImageSet(torch.from_numpy(images).unsqueeze(1), labels)
    info = DatasetInfo(
        key="ujipen",
        title="UJI Pen Characters",
        image_shape=(1, 28, 28),
        class_names=classes,
        preprocessing="ink",
    )
    return Dataset(info, splits["trn_"], splits["tst_"])
