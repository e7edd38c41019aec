"""Minibatch AEVB (Kingma & Welling, Algorithm 1) with Adam, checkpointing after every epoch."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from model.checkpoint import (
    CheckpointInfo,
    LatentSnapshots,
    TrainingState,
    library_versions,
    load_history,
    load_info,
    load_latents,
    load_network,
    load_training_state,
    save_checkpoint,
)
from model.config import ModelConfig, TrainConfig
from model.data import Dataset
from model.device import resolve_device
from model.metrics import elbo_metrics
from model.objectives import objective
from model.storage import recover_folder
from model.vae import VAE

SNAPSHOT_SEED = 0  # the same test subset for every model, so their latent animations compare

EpochHook = Callable[[dict[str, Any], torch.Tensor], None]  # (history record, snapshot latent means [K, D])


class TrainingStopped(Exception):
    """`should_stop` asked training to stop; the last complete epoch's checkpoint is intact."""

    def __init__(self, epochs_completed: int) -> None:
        super().__init__(f"stopped after {epochs_completed} complete epoch(s)")
        self.epochs_completed = epochs_completed


@dataclass
class _Run:
    """Everything that changes while training, restored whole by --resume."""

    network: VAE
    optimizer: torch.optim.Adam
    shuffle_rng: torch.Generator
    noise_rng: torch.Generator
    history: list[dict[str, Any]]
    snapshots: list[torch.Tensor]
    created: str


def snapshot_indices(test_size: int, size: int) -> torch.Tensor:
    """A fixed random subset of test indices, sorted."""
    generator = torch.Generator().manual_seed(SNAPSHOT_SEED)
    return torch.randperm(test_size, generator=generator)[: min(size, test_size)].sort().values


def _fresh_run(model_config: ModelConfig, config: TrainConfig, device: torch.device) -> _Run:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = VAE(model_config).to(device)
    return _Run(
        network=network,
        optimizer=torch.optim.Adam(network.parameters(), lr=config.lr),
        shuffle_rng=torch.Generator(device=device).manual_seed(config.seed),
        noise_rng=torch.Generator(device=device).manual_seed(config.seed + 1),
        history=[],
        snapshots=[],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _resumed_run(
    folder: Path, model_config: ModelConfig, config: TrainConfig, data: dict[str, Any], device: torch.device
) -> _Run:
    info, network = load_network(folder, device)
    if (
        info.model_config != model_config
        or replace(info.train_config, epochs=config.epochs, device=config.device) != config
    ):
        raise ValueError(
            f"cannot resume {folder}: it was trained with {info.model_config} and {info.train_config}; "
            "only the number of epochs and the device may change on --resume"
        )
    if any(info.data.get(key) != value for key, value in data.items() if key != "dataset"):
        raise ValueError(f"cannot resume {folder}: it was trained on other data ({info.data})")
    state = load_training_state(folder)
    network.train()
    optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
    optimizer.load_state_dict(state.optimizer)
    shuffle_rng = torch.Generator(device=device)
    shuffle_rng.set_state(state.shuffle_rng)
    noise_rng = torch.Generator(device=device)
    noise_rng.set_state(state.noise_rng)
    return _Run(
        network=network,
        optimizer=optimizer,
        shuffle_rng=shuffle_rng,
        noise_rng=noise_rng,
        history=load_history(folder),
        snapshots=list(load_latents(folder).mu.unbind(0)),
        created=info.created,
    )


def train(
    folder: Path,
    *,
    model_id: str,
    title: str,
    model_config: ModelConfig,
    config: TrainConfig,
    dataset: Dataset,
    resume: bool = False,
    progress: bool = True,
    on_epoch: EpochHook | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> CheckpointInfo:
    """Train a VAE into `folder`, saving a complete checkpoint after every epoch.

    With `resume`, an existing folder continues from its last complete epoch with the same model,
    optimizer and RNG states, so the result equals an uninterrupted run. Ctrl-C or a kill at any point
    leaves the last complete checkpoint intact. `on_epoch` receives each epoch's history record and the
    snapshot digits' latent means after its checkpoint is saved. `should_stop` is asked after every step:
    True ends training with TrainingStopped, the partial epoch discarded. A loss that is no longer finite
    fails the epoch with ValueError before anything of it is saved.
    """
    device = resolve_device(config.device)
    recover_folder(folder)  # a run killed mid-save left a backup or staging folder: repair first
    if model_config.image_shape != dataset.info.image_shape:
        raise ValueError(
            f"the model is for {model_config.image_shape} images, "
            f"{dataset.info.key} has {dataset.info.image_shape}"
        )
    used = Dataset(dataset.info, dataset.train.head(config.train_limit), dataset.test.head(config.test_limit))
    train_set, test_set = used.train, used.test
    data = {**used.fingerprint(), "dataset": dataset.info.as_dict()}
    if folder.exists() and not resume:
        raise ValueError(f"{folder} already holds a model: pass --resume to continue it, or remove it")
    run = _resumed_run(folder, model_config, config, data, device) if folder.exists() else None
    run = run or _fresh_run(model_config, config, device)

    x_train = train_set.pixels(device)
    x_test = test_set.pixels(device)
    indices = snapshot_indices(len(test_set), config.snapshot_size)
    x_snapshot = x_test[indices.to(device)]
    batches_per_epoch = -(-len(x_train) // config.batch_size)
    start = len(run.history)

    bar = tqdm(
        total=config.epochs * batches_per_epoch,
        initial=start * batches_per_epoch,
        desc=title,
        unit="batch",
        disable=not progress or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )
    with bar:
        for epoch in range(start + 1, config.epochs + 1):
            began = time.perf_counter()
            run.network.train()
            totals = torch.zeros(3, device=device)  # loss, reconstruction, kl summed over the epoch
            order = torch.randperm(len(x_train), generator=run.shuffle_rng, device=device)
            for step, batch_indices in enumerate(order.split(config.batch_size)):
                progress_fraction = ((epoch - 1) * batches_per_epoch + step) / (
                    config.epochs * batches_per_epoch
                )
                for group in run.optimizer.param_groups:
                    group["lr"] = config.lr_at(progress_fraction)
                x = x_train[batch_indices]
                parts = objective(run.network, x, config, run.noise_rng)
                run.optimizer.zero_grad(set_to_none=True)
                parts.loss.mean().backward()
                run.optimizer.step()
                totals += torch.stack([parts.loss.sum(), parts.reconstruction.sum(), parts.kl.sum()]).detach()
                bar.update()
                if should_stop is not None and should_stop():
                    raise TrainingStopped(epoch - 1)
                if step % 25 == 0 and not bar.disable:
                    seen = min((step + 1) * config.batch_size, len(x_train))
                    loss, reconstruction, kl = (totals / seen).tolist()
                    bar.set_postfix(
                        epoch=epoch,
                        loss=f"{loss:.1f}",
                        recon=f"{-reconstruction:.1f}",
                        kl=f"{kl:.2f}",
                        img_s=f"{seen / (time.perf_counter() - began):.0f}",
                    )
            seconds = time.perf_counter() - began
            loss, reconstruction, kl = (totals / len(x_train)).tolist()
            if not math.isfinite(loss):
                raise ValueError(
                    f"the loss became {loss} in epoch {epoch}; the weights diverged (a smaller learning rate "
                    "or beta may help); the last complete epoch is kept"
                )
            run.network.eval()
            metrics = elbo_metrics(run.network, x_test)
            with torch.inference_mode():
                run.snapshots.append(run.network.encode(x_snapshot).mu.cpu())
            run.history.append(
                {
                    "epoch": epoch,
                    "train_loss": loss,
                    "train_neg_elbo": kl - reconstruction,
                    "train_reconstruction_nll": -reconstruction,
                    "train_kl": kl,
                    "test_neg_elbo": metrics.neg_elbo,
                    "test_reconstruction_nll": metrics.reconstruction_nll,
                    "test_kl": metrics.kl,
                    "test_active_units": metrics.active_units,
                    "seconds": seconds,
                    "images_per_second": len(x_train) / seconds,
                }
            )
            info = CheckpointInfo(
                model_id=model_id,
                title=title,
                model_config=model_config,
                train_config=config,
                data=data,
                metrics=metrics.as_dict(),
                epochs_completed=epoch,
                versions=library_versions(),
                created=run.created,
            )
            save_checkpoint(
                folder,
                info=info,
                network=run.network,
                history=run.history,
                latents=LatentSnapshots(indices=indices, mu=torch.stack(run.snapshots)),
                training_state=TrainingState(
                    optimizer=run.optimizer.state_dict(),
                    shuffle_rng=run.shuffle_rng.get_state(),
                    noise_rng=run.noise_rng.get_state(),
                ),
            )
            if on_epoch is not None:
                on_epoch(run.history[-1], run.snapshots[-1])
            if bar.disable and progress:
                sys.stderr.write(
                    f"{title}: epoch {epoch}/{config.epochs} loss {loss:.2f} recon {-reconstruction:.2f} "
                    f"kl {kl:.2f} | test -ELBO {metrics.neg_elbo:.2f} | "
                    f"{len(x_train) / seconds:.0f} img/s\n"
                )
    return load_info(folder)
