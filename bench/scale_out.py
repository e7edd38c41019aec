"""Scaling out on this machine: the beta sweep with --parallel 1 against --parallel 2, and one model trained
by one process against torchrun with 1 and 2 processes (DDP over Gloo on the CPU).

Each run is the real command in a temporary home over the home's MNIST (`make data` first), one after the
other in one sitting. The sweep trains everything `train --zoo beta` trains from an empty home: full-2d,
recon-2d, kl-2d, the five beta models and the classifier. The DDP runs train full-2d's recipe (10 epochs of
60,000 digits, batch 128, cosine schedule); as DDP trains the same model as one process, every run reaches
the same test loss after the same epoch, and the time to it is the sum of the epochs' seconds.

Usage: python bench/scale_out.py [--quick] [--only sweep|ddp]
(--quick: the quick sweep, and 2 epochs of 12,000 digits)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model.checkpoint import load_history
from model.home import atlas_home, data_root, models_root

CLI = [sys.executable, "-m", "app.cli"]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
RECIPE = [
    "--latent-dim",
    "2",
    "--hidden",
    "256,256",
    "--lr",
    "2e-3",
    "--lr-schedule",
    "cosine",
    "--device",
    "cpu",
]


def fresh_home(scratch: Path, name: str) -> Path:
    data = data_root(atlas_home()).resolve()
    if not (data / "mnist").is_dir():
        raise SystemExit(f"no prepared MNIST under {data}: run `make data` (or set LATENT_ATLAS_HOME) first")
    home = scratch / name
    home.mkdir()
    data_root(home).symlink_to(data)
    return home


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{finished.stderr}")
    return time.perf_counter() - began


def sweep(scratch: Path, quick: bool) -> None:
    seconds = {}
    for parallel in (1, 2):
        home = fresh_home(scratch, f"sweep-{parallel}")
        command = [*CLI, "--home", str(home), "train", "--zoo", "beta", "--parallel", str(parallel)]
        seconds[parallel] = timed(command + (["--quick"] if quick else []))
        print(f"beta sweep, --parallel {parallel}: {seconds[parallel]:.0f} s", flush=True)
    print(f"sweep_parallel2_over_1={seconds[2] / seconds[1]:.2f}", flush=True)


def ddp(scratch: Path, quick: bool) -> None:
    home = fresh_home(scratch, "ddp")
    schedule = ["--epochs", "2", "--train-limit", "12000"] if quick else ["--epochs", "10"]
    home_args = ["-m", "app.cli", "--home", str(home), "train"]
    runs = {
        "one process (2 threads)": [*CLI, "--home", str(home), "train", "one"],
        "torchrun, 1 process": [*TORCHRUN, "--nproc-per-node", "1", *home_args, "ddp-1"],
        "torchrun, 2 processes": [*TORCHRUN, "--nproc-per-node", "2", *home_args, "ddp-2"],
    }
    rates = {}
    for label, command in runs.items():
        wall = timed([*command, *RECIPE, *schedule])
        history = load_history(models_root(home) / command[command.index("train") + 1])
        training = sum(record["seconds"] for record in history)
        rates[label] = sum(record["images_per_second"] for record in history) / len(history)
        print(
            f"{label}: {rates[label]:.0f} img/s, test -ELBO {history[-1]['test_neg_elbo']:.2f} after "
            f"{len(history)} epochs in {training:.0f} s of training ({wall:.0f} s with start-up)",
            flush=True,
        )
    one, two = rates["torchrun, 1 process"], rates["torchrun, 2 processes"]
    print(f"ddp_2_over_1_images_per_second={two / one:.2f}")
    print(f"ddp_2_over_one_process_images_per_second={two / rates['one process (2 threads)']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("sweep", "ddp"), help="run one of the two comparisons")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.only in (None, "sweep"):
            sweep(Path(scratch), args.quick)
        if args.only in (None, "ddp"):
            ddp(Path(scratch), args.quick)


if __name__ == "__main__":
    main()
