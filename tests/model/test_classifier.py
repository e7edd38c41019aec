from pathlib import Path

import pytest
import torch

from model.checkpoint import CheckpointError
from model.classifier import ClassifierConfig, accuracy, classify, load_classifier, train_classifier
from model.data import Dataset, ImageSet
from model.home import classifier_folder
from tests.fixture_cache import cached


@pytest.fixture(scope="module")
def default_classifier(mnist: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The classifier behind FID-MNIST and reconstruction accuracy, trained exactly as the zoo trains it."""
    config = ClassifierConfig(device="cpu")

    def build(folder: Path) -> None:
        train_classifier(folder / "classifier", config, mnist, progress=False)

    trained = cached("default-classifier", {"config": config}, build, scratch=tmp_path_factory.mktemp("c"))
    return trained / "classifier"


def test_default_classifier_reaches_99_percent_on_the_test_set(
    default_classifier: Path, test_set: ImageSet
) -> None:
    loaded = load_classifier(default_classifier)
    assert loaded.info.test_accuracy >= 0.99
    assert accuracy(loaded.network, test_set.pixels(), test_set.labels) == pytest.approx(
        loaded.info.test_accuracy
    )


def test_classifier_folder_round_trips_and_classifies_test_digits(
    quick_zoo: Path, test_set: ImageSet
) -> None:
    loaded = load_classifier(classifier_folder(quick_zoo, "mnist"))
    info, classifier = loaded.info, loaded.network
    digits = test_set.head(1000)
    labels, confidence = classify(classifier, digits.pixels())
    assert float((labels == digits.labels).float().mean()) > 0.93
    assert bool(((confidence > 0.1) & (confidence <= 1)).all())
    assert classifier.features(digits.pixels()[:3]).shape == (3, 128)
    assert info.fingerprint == load_classifier(classifier_folder(quick_zoo, "mnist")).info.fingerprint


def test_a_damaged_classifier_folder_raises_a_checkpoint_error(quick_zoo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "classifier"
    folder.mkdir()
    (folder / "config.json").write_text((classifier_folder(quick_zoo, "mnist") / "config.json").read_text())
    weights = (classifier_folder(quick_zoo, "mnist") / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(weights[:200])
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        load_classifier(folder)
    (folder / "config.json").write_text('{"kind": "vae"}')
    with pytest.raises(CheckpointError, match="does not describe a classifier"):
        load_classifier(folder)


def test_classify_accepts_images_or_flat_pixels(quick_zoo: Path, test_set: ImageSet) -> None:
    classifier = load_classifier(classifier_folder(quick_zoo, "mnist")).network
    pixels = test_set.head(8).pixels()
    flat, _ = classify(classifier, pixels)
    square, _ = classify(classifier, pixels.reshape(8, 28, 28))
    assert torch.equal(flat, square)
