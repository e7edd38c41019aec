"""Training under torchrun: two Gloo processes on this CPU, over loopback, train the model one process
trains; a killed rank fails the run with a message and keeps the last complete epoch; --resume works
under DDP; and `train --zoo --parallel 2` trains the beta sweep side by side, a failure ending only
itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_history, load_info, load_network
from model.cli import EXIT_RANK_FAILED, EXIT_USAGE, main
from model.data import Dataset, ImageSet
from model.distributed import Ranks, torchrun_ranks
from model.home import classifier_folder, data_root, models_root
from model.parallel import side_by_side, threads_per_worker
from model.zoo import sweep_ids
from tests.conftest import _free_port

# Two ranks sum each gradient in another order than one process, so the runs agree to float rounding, not
# bit for bit. Adam then divides each step by the root of the gradient's second moment: a weight whose
# gradient is rounding noise (a collapsed posterior's encoder, seen on CI and with this seed here) moves by
# up to the learning rate either way in each run, and such weights end up ~0.02 apart. They barely change
# what the model computes, so the runs are compared by that: the losses of every epoch and the
# reconstructions of test images. Measured with this recipe over seeds 0-9, collapsed or not: losses
# within 5e-5 of each other (relative), reconstructions within 1e-3 of an intensity; the tolerances are
# ten times that. One process trained with other noise misses both eightfold (loss 4e-3, 0.08).
LOSS_TOLERANCE = 5e-4  # relative
RECONSTRUCTION_TOLERANCE = 1e-2  # of an intensity in [0, 1]
RECONSTRUCTED = 500  # test images
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
DDP_RUN = ["--train-limit", "2048", "--epochs", "2", "--seed", "3", "--device", "cpu"]


def torchrun(home: Path, *train_args: str) -> subprocess.Popen[str]:
    """`torchrun --standalone --nproc-per-node 2 -m app.cli --home HOME train ...`, started."""
    return subprocess.Popen(
        [*TORCHRUN, "-m", "app.cli", "--home", str(home), "train", *train_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=600)
    return process.returncode, output


def assert_same_training(folder: Path, reference: Path, test_set: ImageSet) -> None:
    """The model in `folder` trained as the one in `reference`: the same losses in every epoch and the same
    reconstructions, to float rounding."""
    history, expected = load_history(folder), load_history(reference)
    assert [record["epoch"] for record in history] == [record["epoch"] for record in expected]
    for key in ("train_loss", "test_neg_elbo"):
        assert [record[key] for record in history] == pytest.approx(
            [record[key] for record in expected], rel=LOSS_TOLERANCE
        ), key
    x = test_set.head(RECONSTRUCTED).pixels()
    with torch.inference_mode():
        reconstructed, expected_images = (
            torch.sigmoid(network.decode(network.encode(x).mu))
            for _, network in (load_network(folder), load_network(reference))
        )
        difference = (reconstructed - expected_images).abs().max().item()
    assert difference < RECONSTRUCTION_TOLERANCE, f"reconstructions differ by up to {difference}"


@pytest.fixture(scope="module")
def ddp_home(tmp_path_factory: pytest.TempPathFactory, mnist_root: Path) -> Path:
    """A home of its own over the test home's MNIST, holding one model trained by one process."""
    home = tmp_path_factory.mktemp("ddp-home")
    data_root(home).symlink_to(mnist_root)
    assert main(["--home", str(home), "train", "one-process", *DDP_RUN]) == 0
    return home


@pytest.mark.slow
def test_two_gloo_ranks_train_the_model_one_process_trains(ddp_home: Path, test_set: ImageSet) -> None:
    code, output = finished(torchrun(ddp_home, "two-ranks", *DDP_RUN))
    assert code == 0, output
    folder = models_root(ddp_home) / "two-ranks"
    assert_same_training(folder, models_root(ddp_home) / "one-process", test_set)
    # Rank 0 alone wrote the folder and reported, once per epoch, over the whole training slice.
    assert [record["epoch"] for record in load_history(folder)] == [1, 2]
    assert output.count("two-ranks: epoch 1/2") == 1 and "two-ranks: test -ELBO" in output, output


@pytest.mark.slow
def test_resume_under_ddp_continues_to_the_same_model(ddp_home: Path, test_set: ImageSet) -> None:
    """The first epoch by one process, the second by two ranks resuming it: the one-process model."""
    first_epoch = [*DDP_RUN[:2], "--epochs", "1", *DDP_RUN[4:]]
    assert main(["--home", str(ddp_home), "train", "resumed", *first_epoch]) == 0
    code, output = finished(torchrun(ddp_home, "resumed", *DDP_RUN, "--resume"))
    assert code == 0, output
    assert load_info(models_root(ddp_home) / "resumed").epochs_completed == 2
    assert_same_training(models_root(ddp_home) / "resumed", models_root(ddp_home) / "one-process", test_set)


@pytest.mark.slow
def test_a_run_rank_zero_cannot_start_fails_every_rank_with_its_message(ddp_home: Path) -> None:
    code, output = finished(torchrun(ddp_home, "one-process", *DDP_RUN))
    assert code != 0
    assert f"{models_root(ddp_home) / 'one-process'} already holds a model: pass --resume" in output
    assert "rank 0 could not start the run" in output  # what rank 1 says


@pytest.mark.slow
def test_a_killed_rank_fails_the_run_and_keeps_the_last_complete_epoch(ddp_home: Path) -> None:
    """The ranks started by hand, as torchrun would set them up: without torchrun's agent, which stops the
    survivors with SIGTERM at a moment of its own, rank 0 meets the dead peer in its next collective."""
    folder = models_root(ddp_home) / "killed"
    port = str(_free_port())
    # Long enough that the kill lands in the middle: 30 epochs of 12,000 digits.
    command = [sys.executable, "-m", "app.cli", "--home", str(ddp_home), "train", "killed"]
    command += ["--train-limit", "12000", "--epochs", "30", "--device", "cpu"]
    ranks = [
        subprocess.Popen(
            command,
            env={**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "WORLD_SIZE": "2"}
            | {"RANK": str(rank), "LOCAL_RANK": str(rank), "OMP_NUM_THREADS": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    deadline = time.monotonic() + 300
    while not (folder / "config.json").exists():
        assert ranks[0].poll() is None and time.monotonic() < deadline, "no epoch was saved"
        time.sleep(0.1)
    ranks[1].kill()
    finished(ranks[1])
    code, output = finished(ranks[0])
    assert code == EXIT_RANK_FAILED, output
    saved = load_info(folder).epochs_completed
    assert 1 <= saved < 30
    assert f"rank 0 of 2 failed in epoch {saved + 1}:" in output
    assert (
        f"the last complete epoch, {saved}, is saved in {folder}: run the same command with --resume"
        in output
    )
    resume = ["--train-limit", "12000", "--epochs", str(saved + 1), "--device", "cpu", "--resume"]
    assert main(["--home", str(ddp_home), "train", "killed", *resume]) == 0
    assert load_info(folder).epochs_completed == saved + 1


def test_torchrun_environment_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert torchrun_ranks() is None
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert torchrun_ranks() == Ranks(rank=3, world_size=4, local_rank=1)
    monkeypatch.setenv("RANK", "x")
    with pytest.raises(ValueError, match="RANK, WORLD_SIZE and LOCAL_RANK must be integers"):
        torchrun_ranks()
    with pytest.raises(ValueError, match="rank 4 of world size 4 is not a place in a run"):
        Ranks(rank=4, world_size=4)


def test_the_ranks_shares_cover_a_batch_once_in_order() -> None:
    batch = torch.arange(13)
    shares = [Ranks(rank=rank, world_size=3).share(batch) for rank in range(3)]
    assert torch.equal(torch.cat(shares), batch) and [len(share) for share in shares] == [5, 4, 4]
    assert [len(Ranks(rank=rank, world_size=3).share(torch.arange(2))) for rank in range(3)] == [1, 1, 0]


def test_a_zoo_under_torchrun_is_refused(
    ddp_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert main(["--home", str(ddp_home), "train", "--zoo", "--quick"]) == EXIT_USAGE
    assert "torchrun trains one MODEL_ID across its processes; a --zoo trains side by side" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
def test_parallel_two_trains_the_beta_sweep_side_by_side(quick_zoo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    data_root(home).symlink_to(data_root(quick_zoo))
    for model_id in ("full-2d", "recon-2d", "kl-2d", "beta-4-2d"):  # the quick zoo's; the rest train
        shutil.copytree(models_root(quick_zoo) / model_id, models_root(home) / model_id)
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    assert main(["--home", str(home), "train", "--zoo", "beta", "--quick", "--parallel", "2"]) == 0
    rates = [load_info(models_root(home) / model_id).metrics["kl"] for model_id in sweep_ids()]
    assert all(load_info(models_root(home) / model_id).epochs_completed == 3 for model_id in sweep_ids())
    # Rate falls as beta grows, from recon-2d (beta = 0) to kl-2d: each model trained with its own beta.
    assert rates == sorted(rates, reverse=True)


def square_unless_three(dataset: Dataset, device: str, item: int) -> tuple[int, int, int, str]:
    """A task for the worker processes: item squared, with what the worker was given."""
    if item == 3:
        raise ValueError("three is refused")
    return item * item, torch.get_num_threads(), len(dataset.train), device


@pytest.mark.slow
def test_side_by_side_runs_every_item_when_one_fails(mnist: Dataset) -> None:
    small = Dataset(mnist.info, mnist.train.head(100), mnist.test.head(10))
    outcomes = {
        outcome.item: outcome for outcome in side_by_side(square_unless_three, range(5), small, workers=2)
    }
    assert sorted(outcomes) == [0, 1, 2, 3, 4]
    assert str(outcomes[3].error) == "three is refused" and outcomes[3].result is None
    for item in (0, 1, 2, 4):
        assert outcomes[item].result == (item * item, threads_per_worker(2), 100, "auto")
