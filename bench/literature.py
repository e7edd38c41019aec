"""Burda et al.'s Table 1 on this machine: their VAE and IWAEs (`--preset iwae-paper-vae`, k = 1, 5, 50)
trained on dynamically binarized MNIST for a wall-clock budget each, then test log p(x) estimated at
k = 5,000 beside the paper's figure.

Each model follows the paper's schedule (3,280 epochs; on a GPU with `--budget` of a day or two, all of it)
until its budget ends: it stops before an epoch that would not finish in time (judged by the last one; the
first always runs), so its last complete epoch is what is measured. The curve (nats against minutes) is
log p(x) at k = 5,000 on the first `--curve-limit` test digits of the weights kept every `--curve-every`
minutes; the table's figure is on `--test-limit` digits (default all 10,000, as the paper). Models train
one after another with the whole machine unless `--parallel N` runs N side by side (the cores shared
out). `--keep` trains into the home's models (ids paper-vae, paper-iwae-5, paper-iwae-50, with -batch-N and
-fitted for another recipe) so the app shows them; otherwise a temporary home.

`--schedule fitted` asks what the budget, not the paper's 3,280 epochs, can do: the paper's model and
Adam, with the learning rate annealed from 1e-3 to 0 (cosine) over the epochs the budget holds, counted
from two trial epochs timed first (their time is taken from the budget); `--batch-size` changes the
paper's minibatches of 20 (small steps leave a CPU idle between kernels).

Usage: python bench/literature.py [--budget MINUTES] [--only vae,iwae-5,iwae-50] [--parallel N]
       [--schedule paper|fitted] [--batch-size N[,N...]] [--test-limit N] [--curve-every MINUTES]
       [--curve-limit N] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from model.checkpoint import load_network
from model.config import ModelConfig, TrainConfig
from model.data import Dataset, evaluated_split, load_prepared
from model.device import resolve_device
from model.home import atlas_home, data_root, models_root
from model.metrics import importance_weighted_log_likelihood
from model.parallel import side_by_side
from model.presets import PRESETS
from model.train import TrainingStopped, train

# Table 1 of Burda, Grosse & Salakhutdinov (2016), MNIST, one stochastic layer: test log p(x) at k = 5,000.
PAPER = {"vae": (1, -86.76), "iwae-5": (5, -85.54), "iwae-50": (50, -84.78)}
EVAL_K = 5000
PAPER_BATCH = PRESETS["iwae-paper-vae"].train_config.batch_size

TRIAL_EPOCHS = 2  # timed before a fitted schedule: the first epoch also pays for warming up


@dataclass(frozen=True)
class Run:
    name: str
    config: TrainConfig
    budget_seconds: float
    folder: Path
    test_limit: int | None
    curve_every: float
    curve_limit: int

    @property
    def fitted(self) -> bool:
        """The schedule anneals over the epochs the budget holds (recipe's "fitted"), not the paper's."""
        return self.config.lr_schedule == "cosine"


@dataclass(frozen=True)
class Measured:
    name: str
    epochs_done: int
    epochs_planned: int  # the paper's 3,280, or what a fitted schedule expected the budget to hold
    train_minutes: float
    test_neg_elbo: float
    log_likelihood: float
    eval_minutes: float
    curve: list[tuple[float, float, float]]  # (minutes, test -ELBO, log p(x) on the curve's digits)


def recipe(name: str, schedule: str, batch_size: int) -> TrainConfig:
    k, _ = PAPER[name]
    loss = {"loss": "iwae", "iwae_k": k} if k > 1 else {}
    paper = PRESETS["iwae-paper-vae"].train_config
    return replace(
        paper,
        device="auto",
        batch_size=batch_size,
        lr_schedule="cosine" if schedule == "fitted" else paper.lr_schedule,
        **loss,  # type: ignore[arg-type]
    )


def run_id(name: str, schedule: str, batch_size: int) -> str:
    """paper-vae for the paper's recipe; paper-vae-batch-100-fitted for another."""
    batch = [f"batch-{batch_size}"] if batch_size != PAPER_BATCH else []
    return "-".join([f"paper-{name}", *batch, *(["fitted"] if schedule == "fitted" else [])])


def seconds_per_epoch(dataset: Dataset, run: Run, model_config: ModelConfig) -> float:
    """An epoch of `run.config`, saving included, timed on the last of TRIAL_EPOCHS trained in a temporary
    folder (never in the home, where the app would see it)."""
    ended: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        train(
            Path(scratch) / "trial",
            model_id="trial",
            title=f"{run.folder.name} (timing)",
            model_config=model_config,
            config=replace(run.config, epochs=TRIAL_EPOCHS),
            dataset=dataset,
            progress=False,
            on_epoch=lambda _record, _snapshot: ended.append(time.perf_counter()),
        )
    return ended[-1] - ended[-2]


def train_for_budget(dataset: Dataset, device: str, run: Run) -> Measured:
    model_config = replace(PRESETS["iwae-paper-vae"].model_config, image_shape=dataset.info.image_shape)
    config = run.config
    began = time.perf_counter()
    if run.fitted:
        per_epoch = seconds_per_epoch(dataset, run, model_config)
        left = run.budget_seconds - (time.perf_counter() - began)
        config = replace(config, epochs=max(1, int(left / per_epoch)))
    marks_folder = run.folder.with_name(run.folder.name + "-curve")
    marks_folder.mkdir(parents=True, exist_ok=True)
    curve_points: list[tuple[float, float, Path]] = []
    last_epoch_ended = time.perf_counter()
    out_of_time = False

    def after_epoch(record: dict[str, Any], _snapshot: torch.Tensor) -> None:
        nonlocal last_epoch_ended, out_of_time
        now = time.perf_counter()
        # The next epoch takes about as long as this one did, saving included: stop if it would not fit.
        out_of_time = now + (now - last_epoch_ended) > began + run.budget_seconds
        last_epoch_ended = now
        minutes = (now - began) / 60
        if minutes >= run.curve_every * (len(curve_points) + 1) or out_of_time:
            kept = marks_folder / f"epoch-{record['epoch']}"
            shutil.copytree(run.folder, kept, ignore=shutil.ignore_patterns("latents*", "training*"))
            curve_points.append((minutes, record["test_neg_elbo"], kept))

    with contextlib.suppress(TrainingStopped):  # the budget ended: the last complete epoch is kept
        train(
            run.folder,
            model_id=run.folder.name,
            title=run.folder.name,
            model_config=model_config,
            config=config,
            dataset=dataset,
            progress=False,
            on_epoch=after_epoch,
            should_stop=lambda: out_of_time,
        )
    train_minutes = (last_epoch_ended - began) / 60

    test_set, on = evaluated_split(dataset.test, config), resolve_device(device)
    evaluated = time.perf_counter()
    info, network = load_network(run.folder, on)
    x_test = test_set.head(run.test_limit).pixels(on)
    log_likelihood = importance_weighted_log_likelihood(network, x_test, k=EVAL_K)
    eval_minutes = (time.perf_counter() - evaluated) / 60
    curve = []
    x_curve = test_set.head(run.curve_limit).pixels(on)
    for minutes, neg_elbo, kept in curve_points:
        _, marked = load_network(kept, on)
        curve.append((minutes, neg_elbo, importance_weighted_log_likelihood(marked, x_curve, k=EVAL_K)))
    shutil.rmtree(marks_folder)
    return Measured(
        name=run.name,
        epochs_done=info.epochs_completed,
        epochs_planned=config.epochs,
        train_minutes=train_minutes,
        test_neg_elbo=info.metrics["neg_elbo"],
        log_likelihood=log_likelihood,
        eval_minutes=eval_minutes,
        curve=curve,
    )


def report(run: Run, outcome: Measured, test_images: int, curve_limit: int) -> None:
    k, paper = PAPER[outcome.name]
    trained_on = "ELBO (VAE)" if k == 1 else f"IWAE bound, k = {k}"
    epochs = f"{outcome.epochs_done}/{outcome.epochs_planned}"
    print(
        f"{outcome.name:<8} {trained_on:<19} {run.config.batch_size:>5} {epochs:>9} "
        f"{outcome.train_minutes:>6.1f} {-outcome.test_neg_elbo:>9.2f} {outcome.log_likelihood:>10.2f} "
        f"{paper:>7.2f} {outcome.log_likelihood - paper:>+6.2f} {outcome.eval_minutes:>6.1f}",
        flush=True,
    )
    points = ", ".join(f"{minutes:.0f} min {nats:.2f}" for minutes, _, nats in outcome.curve)
    print(f"  curve, log p(x) on {curve_limit} test digits: {points}", flush=True)
    elbos = ", ".join(f"{minutes:.0f} min {-neg:.2f}" for minutes, neg, _ in outcome.curve)
    print(f"  curve, test ELBO on all {test_images}: {elbos}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=45, help="minutes of training per model (default 45)")
    parser.add_argument("--only", default=",".join(PAPER), help=f"some of {', '.join(PAPER)}")
    parser.add_argument("--parallel", type=int, default=1, help="models trained side by side (default 1)")
    parser.add_argument(
        "--schedule", choices=("paper", "fitted"), default="paper", help="the learning rates (default paper)"
    )
    parser.add_argument(
        "--batch-size",
        default=str(PAPER_BATCH),
        help=f"minibatch sizes, comma-separated: each trains every model (default the paper's {PAPER_BATCH})",
    )
    parser.add_argument("--test-limit", type=int, help="test digits for the table's log p(x) (default all)")
    parser.add_argument("--curve-every", type=float, default=9, help="minutes between curve points")
    parser.add_argument("--curve-limit", type=int, default=1000, help="test digits for each curve point")
    parser.add_argument("--keep", action="store_true", help="train into the home's models, kept")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    names = args.only.split(",")
    unknown = sorted(set(names) - set(PAPER))
    if unknown:
        parser.error(f"--only takes {', '.join(PAPER)}, not {', '.join(unknown)}")
    try:
        batch_sizes = [int(size) for size in args.batch_size.split(",")]
    except ValueError:
        batch_sizes = []
    if not batch_sizes or min(batch_sizes) < 1:
        parser.error(f"--batch-size takes whole numbers >= 1, comma-separated, not {args.batch_size!r}")
    dataset = load_prepared(data_root(atlas_home()), "mnist")
    with tempfile.TemporaryDirectory() as scratch:
        models = models_root(atlas_home()) if args.keep else Path(scratch)
        runs = [
            Run(
                name=name,
                config=recipe(name, args.schedule, batch_size),
                budget_seconds=args.budget * 60,
                folder=models / run_id(name, args.schedule, batch_size),
                test_limit=args.test_limit,
                curve_every=args.curve_every,
                curve_limit=args.curve_limit,
            )
            for name in names
            for batch_size in batch_sizes
        ]
        test_images = len(dataset.test.head(args.test_limit))
        print(
            f"budget {args.budget:g} min each, {args.parallel} side by side, the {args.schedule} schedule; "
            f"log p(x) at k = {EVAL_K} on {test_images} binarized test digits",
            flush=True,
        )
        print(
            "model    trained on          batch    epochs    min "
            " test-ELBO   log p(x)   paper   diff  eval min"
        )
        trained = side_by_side(train_for_budget, runs, dataset, workers=args.parallel, device=args.device)
        for finished in trained:
            if finished.error is not None:
                print(f"{finished.item.folder.name}: failed: {finished.error}", flush=True)
                continue
            assert finished.result is not None
            report(finished.item, finished.result, len(dataset.test), args.curve_limit)


if __name__ == "__main__":
    main()
