"""Every data set source on fixtures in its real file format, with the network made to fail."""

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import urllib.request
import zipfile
from pathlib import Path
from types import ModuleType
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image

from model.data import DataUnavailableError, load_prepared
from model.datasets import check_dataset_name, dataset_key, open_dataset
from model.sources import characters, ujipen
from model.sources.folder import FolderError, folder_key


@pytest.fixture(autouse=True)
def network_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: object, **kwargs: object) -> None:
        raise URLError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)


@pytest.fixture
def datasets() -> ModuleType:
    """torchvision's data sets, whose published checksums the fixtures stand in for: imported by the tests
    that patch them (the import takes seconds, which a test process running none of them need not pay)."""
    from torchvision import datasets

    return datasets


def _idx_images(images: np.ndarray) -> bytes:
    n, height, width = images.shape
    return struct.pack(">IIII", 0x803, n, height, width) + images.astype(np.uint8).tobytes()


def _idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _random_split(n: int, seed: int, classes: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28)), rng.integers(offset, classes + offset, n)


@pytest.mark.parametrize(("name", "class_name"), [("fashion-mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
def test_published_gz_files_in_data_dir_are_checked_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, datasets: ModuleType, name: str, class_name: str
) -> None:
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    splits = {"train": _random_split(6, 0, 10), "t10k": _random_split(4, 1, 10)}
    resources = []
    for prefix, (images, labels) in splits.items():
        for kind, data in (("images-idx3", _idx_images(images)), ("labels-idx1", _idx_labels(labels))):
            packed = gzip.compress(data)
            (supplied / f"{prefix}-{kind}-ubyte.gz").write_bytes(packed)
            resources.append((f"{prefix}-{kind}-ubyte.gz", _md5(packed)))
    # The fixture's own checksums stand in for the published ones torchvision carries.
    monkeypatch.setattr(getattr(datasets, class_name), "resources", resources)

    dataset, _ = open_dataset(name, tmp_path / "data", data_dir=supplied)
    assert dataset.info.key == name and len(dataset.info.class_names) == 10
    assert torch.equal(dataset.train.images[:, 0], torch.from_numpy(splits["train"][0].astype(np.uint8)))
    assert dataset.test.labels.tolist() == splits["t10k"][1].tolist()
    assert load_prepared(tmp_path / "data", name).test.fingerprint() == dataset.test.fingerprint()

    (supplied / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"damaged"))
    with pytest.raises(
        DataUnavailableError, match=r"t10k-labels-idx1-ubyte.gz is corrupted: md5 \w+, expected"
    ):
        open_dataset(name, tmp_path / "other", data_dir=supplied)


def test_offline_without_files_names_every_way_to_provide_them(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as raised:
        open_dataset("fashion-mnist", tmp_path / "data")
    message = str(raised.value)
    assert message.startswith("Fashion-MNIST clothing is not available (torchvision: ")
    for way in ("internet", "--data-dir DIR", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert way in message
    assert not (tmp_path / "data" / "fashion-mnist").exists()


def test_emnist_letters_from_the_published_zip_are_upright_and_count_from_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, datasets: ModuleType
) -> None:
    splits = {"train": _random_split(5, 2, 26, offset=1), "test": _random_split(3, 3, 26, offset=1)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for split, (images, labels) in splits.items():
            # EMNIST stores each image transposed.
            stored = images.transpose(0, 2, 1)
            archive.writestr(
                f"gzip/emnist-letters-{split}-images-idx3-ubyte.gz", gzip.compress(_idx_images(stored))
            )
            archive.writestr(
                f"gzip/emnist-letters-{split}-labels-idx1-ubyte.gz", gzip.compress(_idx_labels(labels))
            )
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    (supplied / "gzip.zip").write_bytes(buffer.getvalue())
    monkeypatch.setattr(datasets.EMNIST, "md5", _md5(buffer.getvalue()))

    dataset, _ = open_dataset("emnist-letters", tmp_path / "data", data_dir=supplied)
    assert torch.equal(dataset.train.images[:, 0], torch.from_numpy(splits["train"][0].astype(np.uint8)))
    assert dataset.test.labels.tolist() == (splits["test"][1] - 1).tolist()
    assert dataset.info.class_names[:3] == ("Aa", "Bb", "Cc") and len(dataset.info.class_names) == 26


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def test_cifar10_from_the_published_archive_is_checked_and_read_in_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, datasets: ModuleType
) -> None:
    """cifar-10-python.tar.gz as published: pickled batches of rows of 3,072 bytes (the red plane, then
    green, then blue), read back as [N, 3, 32, 32] with each pixel's colour where it was."""
    rng = np.random.default_rng(4)
    batches = {f"data_batch_{i}": 3 for i in range(1, 6)} | {"test_batch": 4}
    rows = {
        name: rng.integers(0, 256, (count, 3 * 32 * 32), dtype=np.uint8) for name, count in batches.items()
    }
    labels = {name: rng.integers(0, 10, count).tolist() for name, count in batches.items()}
    files = {name: pickle.dumps({"data": rows[name], "labels": labels[name]}) for name in batches}
    files["batches.meta"] = pickle.dumps({"label_names": ["airplane", "automobile"]})
    archive = _tar_gz({f"cifar-10-batches-py/{name}": data for name, data in files.items()})
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    (supplied / "cifar-10-python.tar.gz").write_bytes(archive)
    # The fixture's own checksums stand in for the published ones torchvision carries.
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", _md5(archive))
    monkeypatch.setattr(
        datasets.CIFAR10,
        "train_list",
        [[f"data_batch_{i}", _md5(files[f"data_batch_{i}"])] for i in range(1, 6)],
    )
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", _md5(files["test_batch"])]])
    monkeypatch.setattr(
        datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta, "md5": _md5(files["batches.meta"])}
    )

    dataset, _ = open_dataset("cifar10", tmp_path / "data", data_dir=supplied)
    assert dataset.info.image_shape == (3, 32, 32) and dataset.info.class_names[:2] == (
        "airplane",
        "automobile",
    )
    assert (len(dataset.train), len(dataset.test)) == (15, 4)
    first = rows["data_batch_1"][0].reshape(3, 32, 32)
    assert torch.equal(dataset.train.images[0], torch.from_numpy(first))
    assert dataset.test.labels.tolist() == labels["test_batch"]

    (supplied / "cifar-10-python.tar.gz").write_bytes(archive[:-10])
    with pytest.raises(DataUnavailableError, match=r"cifar-10-python.tar.gz is corrupted: md5 \w+, expected"):
        open_dataset("cifar10", tmp_path / "other", data_dir=supplied)


def _celeba_files(faces: list[tuple[str, tuple[int, int, int], int, int]]) -> dict[str, bytes]:
    """CelebA's published files for `faces` (file name, colour, split, Smiling as -1 or 1): the zip of aligned
    178 x 218 photographs and the five space-separated lists (two header lines where CelebA has them)."""
    attributes = [f"Attribute_{i}" for i in range(39)]
    attributes.insert(31, "Smiling")  # where CelebA has it, among 40
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, colour, _, _ in faces:
            photo = Image.new("RGB", (178, 218), (255, 255, 255))
            photo.paste(Image.new("RGB", (148, 148), colour), (15, 35))  # the face, where the crop keeps it
            jpeg = io.BytesIO()
            photo.save(jpeg, format="JPEG", quality=95)
            archive.writestr(f"img_align_celeba/{name}", jpeg.getvalue())
    count = f"{len(faces)}\n"
    attr_rows = "".join(
        f"{name} " + " ".join(str(smiling if a == "Smiling" else -1) for a in attributes) + "\n"
        for name, _, _, smiling in faces
    )
    return {
        "img_align_celeba.zip": buffer.getvalue(),
        "list_attr_celeba.txt": (count + " ".join(attributes) + "\n" + attr_rows).encode(),
        "identity_CelebA.txt": "".join(f"{name} {i}\n" for i, (name, *_) in enumerate(faces)).encode(),
        "list_bbox_celeba.txt": (
            count + "image_id x_1 y_1 width height\n" + "".join(f"{n} 95 71 226 313\n" for n, *_ in faces)
        ).encode(),
        "list_landmarks_align_celeba.txt": (
            count
            + "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x "
            + "rightmouth_y\n"
            + "".join(f"{n}  69 109 106 113 77 142 73 152 108 154\n" for n, *_ in faces)
        ).encode(),
        "list_eval_partition.txt": "".join(f"{name} {split}\n" for name, _, split, _ in faces).encode(),
    }


def test_celeba_from_the_published_files_is_cropped_to_the_face_and_labelled_by_smiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, datasets: ModuleType
) -> None:
    faces = [
        ("000001.jpg", (200, 40, 40), 0, 1),
        ("000002.jpg", (40, 40, 200), 0, -1),
        ("000003.jpg", (40, 200, 40), 1, 1),  # the validation split: left out
        ("000004.jpg", (200, 200, 40), 2, -1),
        ("000005.jpg", (40, 200, 200), 2, 1),  # two in a split: torchvision cannot read a split of one
    ]
    files = _celeba_files(faces)
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    for name, data in files.items():
        (supplied / name).write_bytes(data)
    file_list = [(file_id, _md5(files[name]), name) for file_id, _, name in datasets.CelebA.file_list]
    monkeypatch.setattr(datasets.CelebA, "file_list", file_list)

    dataset, _ = open_dataset("celeba", tmp_path / "data", data_dir=supplied)
    assert dataset.info.image_shape == (3, 64, 64) and dataset.info.class_names == ("not smiling", "smiling")
    assert (len(dataset.train), len(dataset.test)) == (2, 2)
    assert dataset.train.labels.tolist() == [1, 0] and dataset.test.labels.tolist() == [0, 1]
    colour = dataset.train.images[0].float().mean(dim=(1, 2))  # the crop is all face: no white border
    assert colour[0] > 180 and colour[1] < 60 and colour[2] < 60

    (supplied / "list_eval_partition.txt").write_bytes(b"damaged")
    with pytest.raises(
        DataUnavailableError, match=r"list_eval_partition.txt is corrupted: md5 \w+, expected"
    ):
        open_dataset("celeba", tmp_path / "other", data_dir=supplied)


@pytest.mark.parametrize(
    ("name", "files"), [("cifar10", "cifar-10-python.tar.gz"), ("celeba", "img_align_celeba.zip")]
)
def test_colour_sets_offline_name_every_way_to_provide_them(tmp_path: Path, name: str, files: str) -> None:
    with pytest.raises(DataUnavailableError) as raised:
        open_dataset(name, tmp_path / "data")
    message = str(raised.value)
    assert "is not available (torchvision: " in message
    assert "--data-dir DIR" in message and files in message


def test_characters_are_the_same_on_every_run_and_framed_like_mnist() -> None:
    first, second = characters.render_split(2, seed=11), characters.render_split(2, seed=11)
    assert torch.equal(first.images, second.images) and first.fingerprint() == second.fingerprint()
    assert not torch.equal(first.images, characters.render_split(2, seed=12).images)
    assert first.images.shape == (2 * len(characters.CLASSES), 1, 28, 28)
    assert first.labels[: len(characters.CLASSES)].tolist() == list(range(len(characters.CLASSES)))
    assert {"@", "9", "a", "A"} <= set(characters.CLASSES)
    every_font = characters.render_split(len(characters.FONTS), seed=11)
    ink = every_font.images[:, 0].float()
    rows = (ink.sum(dim=2) * torch.arange(28)).sum(dim=1) / ink.sum(dim=(1, 2))
    cols = (ink.sum(dim=1) * torch.arange(28)).sum(dim=1) / ink.sum(dim=(1, 2))
    # MNIST puts each digit's centre of mass at the field's centre, and so does the renderer (but for
    # a top-heavy glyph whose box would leave the field).
    off = torch.maximum((rows - 14).abs(), (cols - 14).abs())
    assert float((off < 1.0).float().mean()) > 0.97
    clear = (ink[:, [0, -1], :] == 0).all(dim=(1, 2)) & (ink[:, :, [0, -1]] == 0).all(dim=(1, 2))
    boxes = (ink > 0).any(dim=2).sum(dim=1).maximum((ink > 0).any(dim=1).sum(dim=1))
    assert float((boxes - 20).abs().float().median()) <= 1  # the ink's box is MNIST's 20 px
    assert float(clear.float().mean()) > 0.95  # a clear border (98.9% of MNIST's test digits have one)


@pytest.mark.slow  # a pool of rendering processes
def test_a_large_split_is_the_same_whatever_the_number_of_rendering_processes() -> None:
    per_class = characters.ROUNDS_PER_CHUNK + 3  # two chunks, the second short
    one, two = (characters.render_large_split(per_class, seed=11, workers=n) for n in (1, 2))
    assert torch.equal(one.images, two.images) and torch.equal(one.labels, two.labels)
    assert one.images.shape == (per_class * len(characters.CLASSES), 1, 28, 28)
    first_chunk = one.images[: characters.ROUNDS_PER_CHUNK * len(characters.CLASSES)]
    assert not torch.equal(first_chunk[: len(characters.CLASSES)], one.images[-len(characters.CLASSES) :])
    assert (one.images.flatten(1).amax(dim=1) > 0).all()  # every glyph has ink, the short chunk's too


UJI_TEXT = (
    "// UJI Pen Characters v2\r\n"
    "// ASCII char: @\r\n"
    "WORD @ trn_UJI_W01-01\r\n"
    "  NUMSTROKES 1\r\n"
    "  POINTS 5 # 50 10 10 50 50 90 90 50 60 20\r\n"
    "WORD a trn_UJI_W01-01\r\n"
    "  NUMSTROKES 2\r\n"
    "  POINTS 4 # 60 40 30 40 30 80 60 80\r\n"
    "  POINTS 2 # 60 40 60 90\r\n"
    "WORD @ tst_UPV_W18-02\r\n"
    "  NUMSTROKES 1\r\n"
    "  POINTS 4 # 40 10 10 40 40 70 70 40\r\n"
    "WORD a tst_UPV_W18-02\r\n"
    "  NUMSTROKES 1\r\n"
    "  POINTS 1 # 50 50\r\n"
)


def test_ujipen_text_is_parsed_rendered_and_split_by_writer_set(tmp_path: Path) -> None:
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    (supplied / ujipen.TEXT_NAME).write_text(UJI_TEXT, encoding="latin-1")
    dataset, _ = open_dataset("ujipen", tmp_path / "data", data_dir=supplied)
    assert dataset.info.class_names == ("@", "a")
    assert dataset.train.labels.tolist() == [0, 1] and dataset.test.labels.tolist() == [0, 1]
    assert dataset.train.images.shape == (2, 1, 28, 28) and bool(
        (dataset.train.images.amax(dim=(1, 2, 3)) > 200).all()
    )
    assert int((dataset.test.images[1] > 0).sum()) > 0  # a one-point stroke is a dot, not nothing


def test_a_ujipen_archive_is_checked_before_it_is_read(tmp_path: Path) -> None:
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    with zipfile.ZipFile(supplied / ujipen.ARCHIVE_NAME, "w") as archive:
        archive.writestr(ujipen.TEXT_NAME, UJI_TEXT)
    with pytest.raises(
        DataUnavailableError, match=r"uji\+pen\+characters\+version\+2.zip is corrupted: sha256 \w+"
    ):
        open_dataset("ujipen", tmp_path / "data", data_dir=supplied)
    assert not (tmp_path / "data" / "ujipen").exists()


def test_ujipen_format_errors_name_the_sample(tmp_path: Path) -> None:
    broken = UJI_TEXT.replace("POINTS 2 # 60 40 60 90", "POINTS 3 # 60 40 60 90")
    with pytest.raises(ValueError, match="near sample 2: expected POINTS 3 # and 6 numbers"):
        ujipen.parse(broken)


def test_ujipen_offline_names_every_way(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match=r"UJI Pen Characters is not available .*--data-dir DIR"):
        open_dataset("ujipen", tmp_path / "data")


def _save(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_folder_of_class_folders_gets_a_seeded_sixth_held_out(tmp_path: Path) -> None:
    root = tmp_path / "My Shapes"
    for index in range(12):
        _save(root / "dark" / f"{index}.png", (20, 20, 20))
        _save(root / "light" / f"{index}.jpg", (230, 230, 230), size=(64, 80))
    (root / "light" / "notes.txt").write_text("not an image")
    dataset, source = open_dataset(f"folder:{root}", tmp_path / "data")
    assert dataset.info.class_names == ("dark", "light") and dataset.info.image_shape == (1, 28, 28)
    assert dataset.info.key == folder_key(root, None) and dataset.info.key.startswith("folder-my-shapes-")
    assert (len(dataset.train), len(dataset.test)) == (20, 4) and source["unreadable"] == 1
    means = dataset.train.images.float().mean(dim=(1, 2, 3))
    assert bool(((means > 128) == (dataset.train.labels == 1)).all())  # each image kept its class
    again, _ = open_dataset(f"folder:{root}", tmp_path / "data")
    assert torch.equal(again.test.labels, dataset.test.labels)


def test_folder_with_train_and_test_colour_images_and_a_chosen_size(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    for split, count in (("train", 3), ("test", 2)):
        for name, colour in (("cat", (200, 40, 40)), ("dog", (40, 40, 200))):
            for index in range(count):
                _save(root / split / name / f"{index}.png", colour)
    dataset, _ = open_dataset(f"folder:{root}", tmp_path / "data")
    assert dataset.info.image_shape == (3, 32, 32) and (len(dataset.train), len(dataset.test)) == (6, 4)
    small, _ = open_dataset(f"folder:{root}", tmp_path / "data", image_size=16)
    assert small.info.image_shape == (3, 16, 16) and small.info.key != dataset.info.key
    red = small.train.images[small.train.labels == 0].float().mean(dim=(0, 2, 3))
    assert red[0] > 150 and red[2] < 80


def test_folder_of_bare_images_is_an_unlabelled_set(tmp_path: Path) -> None:
    for index in range(6):
        _save(tmp_path / "shots" / f"{index}.png", (index * 40, 0, 0))
    dataset, _ = open_dataset(f"folder:{tmp_path / 'shots'}", tmp_path / "data")
    assert not dataset.info.labelled and dataset.info.class_names == ("images",)
    assert (len(dataset.train), len(dataset.test)) == (5, 1)


def test_a_folder_that_makes_no_data_set_says_why(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FolderError, match="holds no files: put images in one subfolder per class"):
        open_dataset(f"folder:{tmp_path / 'empty'}", tmp_path / "data")
    _save(tmp_path / "one" / "cats" / "a.png", (1, 2, 3))
    with pytest.raises(FolderError, match=r"has one class folder \(cats\): labels need two or more"):
        open_dataset(f"folder:{tmp_path / 'one'}", tmp_path / "data")
    for name in ("a", "b"):
        (tmp_path / "junk" / name).mkdir(parents=True)
        (tmp_path / "junk" / name / "x.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(FolderError, match="none of its 2 files is an image Pillow can read"):
        open_dataset(f"folder:{tmp_path / 'junk'}", tmp_path / "data")
    with pytest.raises(FolderError, match="is not a folder"):
        open_dataset(f"folder:{tmp_path / 'nowhere'}", tmp_path / "data")


def test_a_folder_is_read_again_when_its_files_change(tmp_path: Path) -> None:
    root = tmp_path / "grow"
    for name in ("a", "b"):
        for index in range(3):
            _save(root / name / f"{index}.png", (index * 50, 0, 0))
    first, _ = open_dataset(f"folder:{root}", tmp_path / "data")
    _save(root / "a" / "new.png", (0, 90, 0))
    second, _ = open_dataset(f"folder:{root}", tmp_path / "data")
    assert len(first.train) + len(first.test) == 6 and len(second.train) + len(second.test) == 7


def test_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown data set 'cifar': use mnist, fashion-mnist, kmnist"):
        check_dataset_name("cifar")
    with pytest.raises(
        ValueError, match=r"an image size \(--image-size, image_size=\) applies to folder: data sets"
    ):
        dataset_key("mnist", image_size=32)
    assert dataset_key("characters") == "characters"
