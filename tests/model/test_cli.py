import json
import math
import os
import shutil
from pathlib import Path

import pytest

from model.cli import EXIT_NO_DATA, EXIT_USAGE, main
from model.data import SourceFailed
from model.evaluation import EVALUATION_FILE, FIGURE_ROWS
from model.home import classifier_folder, data_root, models_root

EVAL_QUICKLY = [
    *("--samples", "2", "--iwae-k", "5", "--test-limit", "500", "--exact-limit", "3", "--device", "cpu")
]


@pytest.fixture
def tiny_home(tiny_model: Path, quick_zoo: Path, tmp_path: Path) -> Path:
    """A home of its own holding a copy of the tiny model and the quick zoo's digit classifier."""
    home = tmp_path / "home"
    shutil.copytree(tiny_model, models_root(home) / tiny_model.name)
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    data_root(home).symlink_to(data_root(quick_zoo))
    return home


def test_eval_json_reports_the_lab_figures(tiny_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = models_root(tiny_home) / "tiny-2d"
    assert main(["--home", str(tiny_home), "eval", str(folder), "--json", *EVAL_QUICKLY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model_id"] == "tiny-2d" and report["test_images"] == 500 and report["iwae_k"] == 5
    assert report["elbo"] == pytest.approx(report["reconstruction_log_likelihood"] - report["kl"])
    assert len(report["kl_per_dim"]) == 2 and sum(report["kl_per_dim"]) == pytest.approx(report["kl"])
    assert 0 <= report["active_units"] <= 2 and report["iwae"] >= report["elbo"] - 0.5
    assert report["exact_images"] == 3 and report["exact_gap"] >= report["exact_iwae_part"] - 0.5
    assert report["fid_data"] < report["fid_prior"] and 0 <= report["reconstruction_accuracy"] <= 1
    # Both beat a decoder that says 0.5 for every pixel: 784 ln 2 nats.
    coin_flip = 784 * math.log(2)
    assert -report["reconstruction_log_likelihood"] < 0.5 * coin_flip
    assert report["mean_image_baseline_nll"] < 0.5 * coin_flip
    assert (folder / EVALUATION_FILE).is_file()


def test_eval_table_by_model_id(tiny_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tiny_home), "eval", "tiny-2d", *EVAL_QUICKLY]) == 0
    out = capsys.readouterr().out
    assert "Tiny 2-D (tiny-2d, MNIST handwritten digits)" in out and "log p(x) ≥ IWAE bound, k = 5" in out
    labels = [line.split("  ")[1] for line in out.splitlines()[1:]]  # "  label<padding>  value"
    assert [label for label in labels if label != "mean-image baseline NLL"] == [
        row.label.format(iwae_k=5, exact_images=3) for row in FIGURE_ROWS if row.key != "iwae_bits_per_dim"
    ]  # bits per dimension are a discretized likelihood's figure; this one is Bernoulli, named above
    assert "p(x|z): Bernoulli" in out.splitlines()[0]


def test_train_zoo_names_only_known_zoos_and_data_sets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--zoo", "gamma"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert (
        "--zoo gamma is neither a zoo (default, beta, disentanglement) nor a data set (mnist, fashion-mnist"
        in err
    )


def test_eval_of_an_unknown_model_names_the_folder(
    atlas_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "no-such-model"]) == EXIT_USAGE
    assert f"model folder {atlas_home / 'models' / 'no-such-model'} does not exist" in capsys.readouterr().err


def test_eval_rejects_a_path_like_id_that_is_no_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "../no-such-folder"]) == EXIT_USAGE
    assert "invalid model id '../no-such-folder'" in capsys.readouterr().err


def test_train_needs_an_id_or_zoo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == EXIT_USAGE
    assert "name one MODEL_ID to train, or pass --zoo" in capsys.readouterr().err


def test_missing_data_is_one_message_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(raw: Path) -> None:
        raise SourceFailed("offline")

    monkeypatch.setattr("model.sources.mnist.fetch_with_torchvision", offline)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["--home", str(tmp_path / "home"), "data"]) == EXIT_NO_DATA
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MNIST is not available" in err and "--data-dir DIR" in err
    assert os.listdir(tmp_path / "home" / "data") == []


def test_a_model_trains_and_is_scored_with_the_likelihood_chosen(
    tiny_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The discretized logistic: recorded in the model's config, its IWAE bound also in bits per dimension,
    and the trained model beats the best decoder that ignores z under the same likelihood."""
    train = ["--home", str(tiny_home), "train", "logistic-2d", "--likelihood", "logistic", "--hidden", "64"]
    assert main([*train, "--epochs", "2", "--train-limit", "3000", "--device", "cpu"]) == 0
    config = json.loads((models_root(tiny_home) / "logistic-2d" / "config.json").read_text())["model"]
    assert (config["likelihood"], config["likelihood_scale"]) == ("logistic", None)
    capsys.readouterr()
    assert main(["--home", str(tiny_home), "eval", "logistic-2d", "--json", *EVAL_QUICKLY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["likelihood"] == "Discretized logistic (8-bit)"
    assert report["iwae_bits_per_dim"] == pytest.approx(-report["iwae"] / (784 * math.log(2)))
    assert -report["reconstruction_log_likelihood"] < report["mean_image_baseline_nll"]


def test_binarized_images_need_a_bernoulli_likelihood(
    tiny_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--binarized", "--likelihood", "gaussian", "--epochs", "1"]
    assert main(["--home", str(tiny_home), "train", "x", *flags]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "latent-atlas: error: binarized images are 0 or 1, scored by a Bernoulli likelihood, not 'gaussian': "
        "drop the likelihood or the binarization\n"
    )
