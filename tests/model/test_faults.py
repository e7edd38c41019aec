"""Faults a long-running tool meets: a full disk, a kill at any moment, a crash between two renames."""

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model import checkpoint
from model.checkpoint import WEIGHTS_FILE, load_info, load_network
from model.cli import EXIT_WRITE_FAILED, main
from model.data import Dataset
from model.home import data_root, models_root
from tests.conftest import train_tiny


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "model.safetensors")


def test_a_full_disk_keeps_the_previous_checkpoint(
    tmp_path: Path, mnist: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "full-disk"
    train_tiny(folder, mnist, epochs=1)
    before = (folder / WEIGHTS_FILE).read_bytes()
    monkeypatch.setattr(checkpoint, "save_file", _disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        train_tiny(folder, mnist, epochs=2)
    assert load_info(folder).epochs_completed == 1 and (folder / WEIGHTS_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full-disk"]


def test_a_full_disk_is_one_message_and_exit_code(
    atlas_home: Path, mnist_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "save_file", _disk_full)
    args = [
        "train",
        "disk-full",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--train-limit",
        "500",
        "--device",
        "cpu",
    ]
    assert main(args) == EXIT_WRITE_FAILED
    err = capsys.readouterr().err
    assert err.strip() == (
        "latent-atlas: error: No space left on device (model.safetensors); what was saved before is intact"
    )
    assert not (models_root(atlas_home) / "disk-full").exists()


def test_a_crash_between_the_two_renames_loses_nothing(tmp_path: Path, mnist: Dataset) -> None:
    folder = tmp_path / "cut"
    train_tiny(folder, mnist, epochs=1)
    os.replace(folder, tmp_path / ".cut.old")  # the old folder moved aside, the new one never arrived
    (tmp_path / ".cut.abc123.tmp").mkdir()  # and a staging folder left behind
    assert load_info(folder).epochs_completed == 1  # readers find the backup without moving it
    assert (tmp_path / ".cut.old").exists()
    train_tiny(folder, mnist, epochs=2)  # the writer repairs, then continues
    assert load_info(folder).epochs_completed == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut"]


@pytest.mark.slow
def test_sigkill_at_a_random_moment_then_resume(mnist_root: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"  # of its own, so the killed model never joins the shared test home's models
    home.mkdir()
    data_root(home).symlink_to(mnist_root)
    folder = models_root(home) / "killed"
    command = [
        sys.executable,
        "-c",
        "from app.cli import main; raise SystemExit(main())",
        "--home",
        str(home),
        "train",
        "killed",
        "--hidden",
        "32",
        "--epochs",
        "12",
        "--train-limit",
        "1500",
        "--device",
        "cpu",
    ]
    process = subprocess.Popen([*command, "--resume"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (folder / "config.json").exists():  # the first checkpoint is down
        assert time.monotonic() < deadline and process.poll() is None, "training did not start"
        time.sleep(0.02)
    time.sleep(random.Random().uniform(0.0, 1.0))  # then anywhere: mid-epoch or mid-save
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "training ended before the kill"

    survived = load_info(folder).epochs_completed
    assert 1 <= survived <= 12
    load_network(folder)  # whatever survived is whole
    finished = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert load_info(folder).epochs_completed == 12
    assert [p.name for p in folder.parent.glob(".killed*")] == []
