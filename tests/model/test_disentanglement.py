"""The disentanglement metrics on encoders whose answers are known: the identity on the factors scores at
the top (1, where 1 is the metric's maximum), a random rotation of them scores lower, a constant encoder
scores 0 (the beta-VAE score: chance, its floor); and DCI's and MIG's parts against their definitions."""

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from model.checkpoint import load_network
from model.cli import EXIT_USAGE, main
from model.config import ModelConfig, TrainConfig
from model.datasets import open_dataset
from model.disentanglement import (
    EncodedFactors,
    beta_vae_score,
    completeness_of,
    dci,
    disentanglement_of,
    factor_entropies,
    factor_vae_score,
    mig,
    mutual_information,
    sample_codes,
    sap,
)
from model.home import data_root, models_root
from model.sources import sprites
from model.train import train

SIZES = (3, 6, 10, 8, 8)  # at most MIG's 20 bins each, so binning loses nothing of the identity's codes


class Toy:
    """Factors turned into codes by a known function of the factors scaled to [0, 1]."""

    def __init__(self, encode: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.factor_sizes = SIZES
        self.encode = encode

    def represent(self, factors: torch.Tensor) -> torch.Tensor:
        return self.encode(factors.double() / (torch.tensor(SIZES, dtype=torch.float64) - 1))


ROTATION, _ = torch.linalg.qr(
    torch.randn(5, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
)
IDENTITY = Toy(lambda f: f)
ROTATED = Toy(lambda f: f @ ROTATION)
CONSTANT = Toy(lambda f: torch.zeros(len(f), 3, dtype=torch.float64))


def codes(source: Toy, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return sample_codes(source, n, torch.Generator().manual_seed(seed))


def test_the_beta_vae_score() -> None:
    score = {
        name: beta_vae_score(s, torch.Generator().manual_seed(0), train=600, eval=300)
        for name, s in (("identity", IDENTITY), ("rotated", ROTATED), ("constant", CONSTANT))
    }
    assert score["identity"].eval == 1.0
    assert score["rotated"].eval < score["identity"].eval
    assert score["constant"].eval == pytest.approx(1 / len(SIZES), abs=0.06)  # chance


def test_the_factor_vae_score() -> None:
    identity = factor_vae_score(
        IDENTITY, torch.Generator().manual_seed(0), train=500, eval=300, variance_points=2000
    )
    rotated = factor_vae_score(
        ROTATED, torch.Generator().manual_seed(0), train=500, eval=300, variance_points=2000
    )
    constant = factor_vae_score(
        CONSTANT, torch.Generator().manual_seed(0), train=50, eval=50, variance_points=200
    )
    assert identity.eval == 1.0 and rotated.eval < identity.eval - 0.1 and constant.eval == 0.0  # 1, 0.77, 0


def test_mig_against_its_definition() -> None:
    x, y = codes(IDENTITY, 4000, 0)
    assert mig(x, y) == pytest.approx(
        1.0, abs=0.02
    )  # the other codes share only sampling noise with a factor
    rotated = mig(*codes(ROTATED, 4000, 0))
    assert rotated < 0.3
    assert mig(*codes(CONSTANT, 500, 0)) == 0.0
    # The identity's own code carries all of its factor: I(z_k; y_k) = H(y_k), the definition's normaliser.
    information = mutual_information(x, y)
    assert np.diag(information) == pytest.approx(factor_entropies(y), rel=1e-9)
    assert factor_entropies(y) == pytest.approx(
        np.log(SIZES), abs=0.02
    )  # uniform factors: log of their sizes


def test_sap() -> None:
    identity = sap(*codes(IDENTITY, 2000, 0), *codes(IDENTITY, 1000, 1))
    rotated = sap(*codes(ROTATED, 2000, 0), *codes(ROTATED, 1000, 1))
    constant = sap(*codes(CONSTANT, 500, 0), *codes(CONSTANT, 500, 1))
    assert identity > rotated + 0.1 and constant == 0.0


def test_dci() -> None:
    identity = dci(*codes(IDENTITY, 800, 0), *codes(IDENTITY, 300, 1))
    assert (
        identity.disentanglement > 0.95 and identity.completeness > 0.95 and identity.informativeness > 0.99
    )
    importance = np.array(identity.importance)
    assert (importance.argmax(axis=0) == np.arange(5)).all()  # each factor read from its own code
    rotated = dci(*codes(ROTATED, 800, 0), *codes(ROTATED, 300, 1))
    assert rotated.disentanglement < 0.6 and rotated.completeness < 0.6
    constant = dci(*codes(CONSTANT, 300, 0), *codes(CONSTANT, 100, 1))
    assert constant.disentanglement == pytest.approx(
        0.0, abs=1e-6
    ) and constant.completeness == pytest.approx(0.0, abs=1e-6)


def test_dci_s_disentanglement_and_completeness_are_one_minus_weighted_entropies() -> None:
    """Hand-made importance matrices [codes, factors]: one code reading both factors equally is not
    disentangled but complete; codes each reading their own factor are both; three codes reading factor 0
    equally (2/3 of the importance) and one reading factor 1: each code reads one factor, and factor 0's
    completeness is 1 - log 3 / log 4 (uniform over 3 of the 4 codes)."""
    one_code_for_both = np.array([[0.5, 0.5], [0.0, 0.0]])
    assert disentanglement_of(one_code_for_both) == pytest.approx(0.0, abs=1e-9)
    assert completeness_of(one_code_for_both) == pytest.approx(1.0, abs=1e-6)
    assert disentanglement_of(np.eye(3)) == pytest.approx(1.0, abs=1e-6)
    assert completeness_of(np.eye(3)) == pytest.approx(1.0, abs=1e-6)
    spread = np.array([[2 / 3, 0], [2 / 3, 0], [2 / 3, 0], [0, 1.0]])
    assert disentanglement_of(spread) == pytest.approx(1.0, abs=1e-6)
    assert completeness_of(spread) == pytest.approx(2 / 3 * (1 - np.log(3) / np.log(4)) + 1 / 3, abs=1e-6)


@pytest.fixture(scope="module")
def sprites_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with sprites-small and a 6-D model of it trained for an epoch."""
    home = tmp_path_factory.mktemp("sprites-home")
    dataset, _ = open_dataset(sprites.SMALL_KEY, data_root(home))
    train(
        models_root(home) / "sprites-6d",
        model_id="sprites-6d",
        title="Sprites, 6-D",
        model_config=ModelConfig(latent_dim=6, hidden=(64,), image_shape=dataset.info.image_shape),
        config=TrainConfig(epochs=1, batch_size=64, device="cpu"),
        dataset=dataset,
        progress=False,
    )
    return home


def test_a_model_s_codes_are_its_posterior_means_of_the_images_of_the_factors(sprites_home: Path) -> None:
    _, network = load_network(models_root(sprites_home) / "sprites-6d")
    network.eval()
    dataset, _ = open_dataset(sprites.SMALL_KEY, data_root(sprites_home))
    assert dataset.test.factors is not None
    source = EncodedFactors(network, partial(sprites.images_of, sprites.SMALL), sprites.SMALL.sizes)
    codes = source.represent(dataset.test.factors[:50])
    with torch.inference_mode():
        expected = network.encode(dataset.test.head(50).pixels()).mu
    assert torch.allclose(codes, expected, atol=1e-6)


def test_the_command_scores_a_sprites_model_and_refuses_one_without_factors(
    sprites_home: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--home", str(sprites_home), "disentanglement", "sprites-6d", "--points", "200", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    scores = ("beta_vae_score", "factor_vae_score", "mig", "sap", "dci_disentanglement", "dci_completeness")
    assert all(0 <= report[name] <= 1 for name in (*scores, "dci_informativeness"))
    assert report["factors"] == ["shape", "scale", "orientation", "x", "y"]
    information = np.array(report["information"])
    assert information.shape == (6, 5) and ((information >= 0) & (information <= 1 + 1e-9)).all()
    assert report["mig"] == pytest.approx(float(np.mean(np.diff(np.sort(information, axis=0)[-2:], axis=0))))
    assert main(["disentanglement", str(tiny_model), "--points", "200"]) == EXIT_USAGE
    assert "whose factors of variation are not known" in capsys.readouterr().err
