"""Recipes from the literature and the binarized data they are measured on."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import model.cli
from model.cli import EXIT_USAGE, main
from model.config import TrainConfig
from model.data import Dataset, ImageSet
from model.evaluation import cached_evaluation
from model.home import classifier_folder, data_root, models_root
from model.presets import PRESETS
from model.vae import VAE
from tests.conftest import train_tiny


def test_the_iwae_paper_preset_builds_the_papers_shapes() -> None:
    network = VAE(PRESETS["iwae-paper-vae"].model_config)
    linears = [(m.in_features, m.out_features) for m in network.modules() if isinstance(m, nn.Linear)]
    # 784-200-200 to mu and log-variance of 50 each; 50-200-200-784 back (Burda et al., Sec. 5)
    assert linears == [(784, 200), (200, 200), (200, 100), (50, 200), (200, 200), (200, 784)]
    activations = [type(m) for m in network.modules() if isinstance(m, (nn.Tanh, nn.ReLU))]
    assert activations == [nn.Tanh] * 4
    for layer in (m for m in network.modules() if isinstance(m, nn.Linear)):
        # Glorot & Bengio's uniform: bound sqrt(6 / (fan_in + fan_out)), its std bound / sqrt(3); zero biases
        bound = math.sqrt(6 / (layer.in_features + layer.out_features))
        weights = layer.weight.detach()
        assert 0.95 * bound < weights.abs().max() <= bound, layer
        assert weights.std() == pytest.approx(bound / math.sqrt(3), rel=0.05), layer
        assert not layer.bias.detach().any(), layer
    training = PRESETS["iwae-paper-vae"].train_config
    assert (training.batch_size, training.adam_eps, training.epochs, training.binarized) == (
        20,
        1e-4,
        3280,
        True,
    )


def test_the_iwae_paper_schedule_runs_3_to_the_i_passes_at_each_rate() -> None:
    config = TrainConfig(epochs=3280, lr=1e-3, lr_schedule="iwae-paper")
    # stage i covers passes [3^0 + ... + 3^(i-1), 3^0 + ... + 3^i)
    for passes, stage in ((0, 0), (0.99, 0), (1, 1), (3.99, 1), (4, 2), (13, 3), (40, 4), (121, 5)):
        assert config.lr_at(passes / 3280) == pytest.approx(1e-3 * 10 ** (-stage / 7)), passes
    assert config.lr_at(1093 / 3280) == pytest.approx(1e-4) and config.lr_at(1.0) == pytest.approx(1e-4)


def test_a_shorter_iwae_paper_run_follows_the_papers_schedule_as_far_as_it_goes() -> None:
    full, short = (TrainConfig(epochs=epochs, lr=1e-3, lr_schedule="iwae-paper") for epochs in (3280, 328))
    for passes in (0, 0.5, 1, 3.9, 4, 12, 13, 39.5, 40, 120, 121, 327.9):
        assert short.lr_at(passes / 328) == full.lr_at(passes / 3280), passes
    assert short.lr_at(1.0) == pytest.approx(1e-3 * 10 ** (-5 / 7))  # it ends in stage 5 of 0..7


def test_the_binarized_test_set_is_the_same_on_every_run(test_set: ImageSet) -> None:
    first, second = test_set.head(500).binarized(), test_set.head(500).binarized()
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, test_set.head(500).labels)
    assert set(first.images.unique().tolist()) == {0, 255}
    # each pixel is ink with probability its intensity
    ink = first.pixels().mean().item()
    assert ink == pytest.approx(test_set.head(500).pixels().mean().item(), abs=0.005)


def test_a_preset_trains_with_its_recipe_and_refuses_to_be_changed(
    tmp_path: Path, mnist_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    data_root(home).symlink_to(mnist_root)
    run = ["--home", str(home), "train", "paper", "--preset", "iwae-paper-vae", "--device", "cpu"]
    assert main([*run, "--lr", "0.1", "--hidden", "64"]) == EXIT_USAGE
    assert (
        "--preset iwae-paper-vae fixes the model and its optimiser: drop --hidden, --lr"
        in capsys.readouterr().err
    )
    assert main([*run, "--epochs", "1", "--train-limit", "400", "--loss", "iwae", "--iwae-k", "5"]) == 0
    saved = json.loads((models_root(home) / "paper" / "config.json").read_text())
    assert saved["model"]["activation"] == "tanh" and saved["model"]["latent_dim"] == 50
    recipe = {key: saved["training"][key] for key in ("epochs", "batch_size", "lr_schedule", "adam_eps")}
    assert recipe == {"epochs": 1, "batch_size": 20, "lr_schedule": "iwae-paper", "adam_eps": 1e-4}
    assert (saved["training"]["loss"], saved["training"]["iwae_k"], saved["training"]["binarized"]) == (
        "iwae",
        5,
        True,
    )


def test_a_model_trains_on_binarized_digits(tmp_path: Path, mnist: Dataset) -> None:
    folder = tmp_path / "binarized"
    train_tiny(folder, mnist, binarized=True)
    history = json.loads((folder / "history.json").read_text())
    assert json.loads((folder / "config.json").read_text())["training"]["binarized"] is True
    assert history[-1]["test_neg_elbo"] < history[0]["test_neg_elbo"]  # it learns from fresh draws each epoch


def test_a_binarized_model_is_evaluated_on_the_binarized_test_set(
    tmp_path: Path, mnist: Dataset, quick_zoo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    train_tiny(models_root(home) / "binarized", mnist, binarized=True)
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    data_root(home).symlink_to(data_root(quick_zoo))
    evaluated: list[ImageSet] = []

    def evaluation_of(*args: Any, **kwargs: Any) -> Any:
        evaluated.append(args[3])  # (folder, network, classifier, test_set, ...)
        return cached_evaluation(*args, **kwargs)

    monkeypatch.setattr(model.cli, "cached_evaluation", evaluation_of)
    evaluate = ["eval", "binarized", "--json", "--samples", "2", "--iwae-k", "5", "--test-limit", "300"]
    assert main(["--home", str(home), *evaluate, "--exact-limit", "2", "--device", "cpu"]) == 0
    # The seeded draw training measured its test -ELBO on, the same every run; not the intensities.
    assert torch.equal(evaluated[0].images, mnist.test.binarized().images)
