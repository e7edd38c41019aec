"""Minibatch AEVB (Kingma & Welling, Algorithm 1) with Adam, checkpointing after every epoch."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from model.checkpoint import (
    CheckpointError,
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
from model.config import MAX_SNAPSHOTS, ModelConfig, TrainConfig, check_together
from model.data import Dataset, evaluated_split
from model.distributed import SINGLE, RankFailure, Ranks
from model.latent_health import HEALTH_IMAGES, health_of
from model.metrics import elbo_metrics
from model.objectives import TotalCorrelationDiscriminator, noise_shape, objective
from model.records import EpochRecord
from model.storage import recover_folder
from model.vae import VAE

SNAPSHOT_SEED = 0  # the same test subset for every model, so their latent animations compare

EpochHook = Callable[[EpochRecord, torch.Tensor], None]  # (the epoch's record, snapshot latent means [K, D])


class TrainingStopped(Exception):
    """`should_stop` asked training to stop; the last complete epoch's checkpoint is intact."""

    def __init__(self, epochs_completed: int) -> None:
        super().__init__(f"stopped after {epochs_completed} complete epoch(s)")
        self.epochs_completed = epochs_completed


@dataclass
class _Run:
    """Everything that changes while training, restored whole by --resume."""

    network: VAE
    discriminator: TotalCorrelationDiscriminator | None  # FactorVAE's, trained beside the VAE
    optimizer: torch.optim.Adam
    shuffle_rng: torch.Generator
    noise_rng: torch.Generator
    history: list[EpochRecord]
    snapshots: dict[int, torch.Tensor]  # epoch -> the snapshot images' latent means then
    created: str


def snapshot_epochs(latest: int, limit: int = MAX_SNAPSHOTS) -> list[int]:
    """The epochs whose snapshots a run `latest` epochs long keeps: all of them up to `limit`, then the
    first, the last and every stride-th, the stride the smallest power of two that keeps at most `limit`
    (so each kept set holds the next one's older epochs, and a resumed run keeps the same)."""
    stride = 1
    while True:
        kept = sorted({1, latest, *range(stride, latest + 1, stride)})
        if len(kept) <= limit or stride >= latest:
            return kept
        stride *= 2


def snapshot_indices(test_size: int, size: int) -> torch.Tensor:
    """A fixed random subset of test indices, sorted."""
    generator = torch.Generator().manual_seed(SNAPSHOT_SEED)
    return torch.randperm(test_size, generator=generator)[: min(size, test_size)].sort().values


# FactorVAE's discriminator's Adam moments (Kim & Mnih, 2018, Appendix); its learning rate is the VAE's.
DISCRIMINATOR_BETAS = (0.5, 0.9)


def _adam(network: nn.Module, config: TrainConfig, discriminator: nn.Module | None) -> torch.optim.Adam:
    # The fused kernel updates all parameters in one call: ~1.4x the steps per second of small minibatches
    # on a CPU (the IWAE preset's 20 images), the same arithmetic per element.
    fused = next(network.parameters()).device.type in ("cpu", "cuda", "mps")
    groups: list[dict[str, Any]] = [{"params": list(network.parameters())}]
    if discriminator is not None:
        groups.append({"params": list(discriminator.parameters()), "betas": DISCRIMINATOR_BETAS})
    return torch.optim.Adam(groups, lr=config.lr, eps=config.adam_eps, fused=fused)


def _discriminator(
    config: TrainConfig, latent_dim: int, device: torch.device
) -> TotalCorrelationDiscriminator | None:
    """FactorVAE's discriminator, seeded apart from the VAE (whose initialisation stays the seed's); None
    for every other objective."""
    if config.loss != "factorvae":
        return None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed + 2)
        return TotalCorrelationDiscriminator(latent_dim).to(device)


def _fresh_run(model_config: ModelConfig, config: TrainConfig, device: torch.device) -> _Run:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = VAE(model_config).to(device)
    discriminator = _discriminator(config, model_config.latent_dim, device)
    return _Run(
        network=network,
        discriminator=discriminator,
        optimizer=_adam(network, config, discriminator),
        shuffle_rng=torch.Generator(device=device).manual_seed(config.seed),
        noise_rng=torch.Generator(device=device).manual_seed(config.seed + 1),
        history=[],
        snapshots={},
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
    latents = load_latents(folder)
    network.train()
    discriminator = _discriminator(config, model_config.latent_dim, device)
    if discriminator is not None:
        if state.discriminator is None:
            raise CheckpointError(f"model folder {folder}: the FactorVAE's discriminator was not kept")
        discriminator.load_state_dict(state.discriminator)
    optimizer = _adam(network, config, discriminator)
    optimizer.load_state_dict(state.optimizer)
    shuffle_rng = torch.Generator(device=device)
    shuffle_rng.set_state(state.shuffle_rng)
    noise_rng = torch.Generator(device=device)
    noise_rng.set_state(state.noise_rng)
    return _Run(
        network=network,
        discriminator=discriminator,
        optimizer=optimizer,
        shuffle_rng=shuffle_rng,
        noise_rng=noise_rng,
        history=cast(list[EpochRecord], load_history(folder)),
        snapshots=dict(zip(latents.epochs.tolist(), latents.mu.unbind(0), strict=True)),
        created=info.created,
    )


def _shared_run(
    ranks: Ranks,
    build: Callable[[], _Run],
    model_config: ModelConfig,
    config: TrainConfig,
    device: torch.device,
) -> _Run:
    """Rank 0's run (fresh or resumed from its folder) on every rank: only rank 0 needs to see the model
    folder, so the ranks may be on machines that share no disk. A run rank 0 cannot start fails them all
    with its message. Only rank 0 keeps the history and snapshots it saves."""
    if not ranks.distributed:
        return build()
    run, failure = None, None
    if ranks.is_main:
        try:
            run = build()
        except Exception as error:  # raised below, once the others know: they would wait for it forever
            failure = error
    state = ranks.from_main(
        {"failure": str(failure)}
        if run is None
        else {
            "weights": run.network.state_dict(),
            "discriminator": run.discriminator.state_dict() if run.discriminator else None,
            "optimizer": run.optimizer.state_dict(),
            "shuffle_rng": run.shuffle_rng.get_state(),
            "noise_rng": run.noise_rng.get_state(),
            "epochs": len(run.history),
            "created": run.created,
        }
    )
    if failure is not None:
        raise failure
    if "failure" in state:
        raise ValueError(f"rank 0 could not start the run: {state['failure']}")
    if run is not None:
        return run
    run = _fresh_run(model_config, config, device)
    run.network.load_state_dict(state["weights"])
    if run.discriminator is not None:
        run.discriminator.load_state_dict(state["discriminator"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.shuffle_rng.set_state(state["shuffle_rng"])
    run.noise_rng.set_state(state["noise_rng"])
    # Rank 0 keeps the records; here their number says where to start.
    run.history = cast(list[EpochRecord], [{} for _ in range(state["epochs"])])
    run.created = state["created"]
    return run


class _Step(nn.Module):
    """One minibatch's objective as a module's forward: DistributedDataParallel hooks `forward`, so this is
    what it wraps. -> per-example loss, reconstruction and KL: [B] each."""

    def __init__(self, network: VAE, discriminator: nn.Module | None, config: TrainConfig) -> None:
        super().__init__()
        self.network = network
        self.discriminator = discriminator  # a submodule: DistributedDataParallel averages its gradients too
        self.config = config

    def forward(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """-> the loss, reconstruction and KL, and FactorVAE's discriminator's loss (None otherwise)."""
        parts = objective(self.network, x, self.config, eps=eps, discriminator=self.discriminator)
        return parts.loss, parts.reconstruction, parts.kl, parts.discriminator_loss


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
    ranks: Ranks = SINGLE,
) -> CheckpointInfo:
    """Train a VAE into `folder`, saving a complete checkpoint after every epoch.

    With `resume`, an existing folder continues from its last complete epoch with the same model,
    optimizer and RNG states, so the result equals an uninterrupted run. Ctrl-C or a kill at any point
    leaves the last complete checkpoint intact. `on_epoch` receives each epoch's history record and the
    snapshot images' latent means after its checkpoint is saved. `should_stop` is asked after every step:
    True ends training with TrainingStopped, the partial epoch discarded. A loss that is no longer finite
    fails the epoch with ValueError before anything of it is saved.

    Under torchrun (`ranks` of a joined process group, model.distributed) every rank takes its share of
    each global minibatch and DistributedDataParallel averages the gradients, so the model equals one
    process's with the same batch size and seed (to float rounding); rank 0 alone writes the folder and
    calls `on_epoch`. A failed rank fails the others with RankFailure; the last complete epoch is kept.
    """
    if ranks.distributed and should_stop is not None:
        raise ValueError("should_stop cannot be asked on one rank of a distributed run")
    device = ranks.device(config.device)
    if ranks.is_main:
        recover_folder(folder)  # a run killed mid-save left a backup or staging folder: repair first
    check_together(model_config, config)
    if model_config.image_shape != dataset.info.image_shape:
        raise ValueError(
            f"the model is for {model_config.image_shape} images, "
            f"{dataset.info.key} has {dataset.info.image_shape}"
        )
    used = Dataset(dataset.info, dataset.train.head(config.train_limit), dataset.test.head(config.test_limit))
    train_set, test_set = used.train, evaluated_split(used.test, config)
    data = {**used.fingerprint(), "dataset": dataset.info.as_dict()}
    held = ranks.gather(data)
    if len({json.dumps(seen, sort_keys=True) for seen in held}) > 1:
        raise ValueError(f"the ranks hold different data ({', '.join(map(str, held))})")

    def build() -> _Run:
        if folder.exists() and not resume:
            raise ValueError(f"{folder} already holds a model: pass --resume to continue it, or remove it")
        if folder.exists():
            return _resumed_run(folder, model_config, config, data, device)
        return _fresh_run(model_config, config, device)

    run = _shared_run(ranks, build, model_config, config, device)
    step = _Step(run.network, run.discriminator, config)
    module = DistributedDataParallel(step) if ranks.distributed else step

    # Kept as bytes and made [0, 1] floats a minibatch at a time: sprites' 737,280 images would take 12 GB
    # as floats.
    x_train = train_set.images.to(device).reshape(len(train_set), -1)
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
        disable=not progress or not ranks.is_main or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )
    completed = start
    try:
        with bar:
            for epoch in range(start + 1, config.epochs + 1):
                began = time.perf_counter()
                totals = _train_epoch(module, run, x_train, config, epoch, ranks, bar, should_stop)
                seconds = time.perf_counter() - began
                loss, reconstruction, kl = (totals / len(x_train)).tolist()
                if not math.isfinite(loss):
                    raise ValueError(
                        f"the loss became {loss} in epoch {epoch}; the weights diverged (a smaller learning "
                        "rate or beta may help); the last complete epoch is kept"
                    )
                if not ranks.is_main:
                    completed = epoch
                    continue
                run.network.eval()
                metrics = elbo_metrics(run.network, x_test)
                split = health_of(run.network, x_test[:HEALTH_IMAGES])
                with torch.inference_mode():
                    run.snapshots[epoch] = run.network.encode(x_snapshot).mu.cpu()
                run.snapshots = {kept: run.snapshots[kept] for kept in snapshot_epochs(epoch, MAX_SNAPSHOTS)}
                record: EpochRecord = {
                    "epoch": epoch,
                    "train_loss": loss,
                    "train_neg_elbo": kl - reconstruction,
                    "train_reconstruction_nll": -reconstruction,
                    "train_kl": kl,
                    "test_neg_elbo": metrics.neg_elbo,
                    "test_reconstruction_nll": metrics.reconstruction_nll,
                    "test_kl": metrics.kl,
                    "test_active_units": metrics.active_units,
                    "test_kl_per_dim": metrics.kl_per_dim,
                    "seconds": seconds,
                    "images_per_second": len(x_train) / seconds,
                }
                if math.isfinite(
                    split.mutual_information + split.marginal_kl
                ):  # a diagnostic never fails a run
                    record["test_mutual_information"] = split.mutual_information
                    record["test_marginal_kl"] = split.marginal_kl
                    record["test_information_bound"] = split.bound
                run.history.append(record)
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
                    latents=LatentSnapshots(
                        indices=indices,
                        mu=torch.stack(list(run.snapshots.values())),
                        epochs=torch.tensor(list(run.snapshots)),
                    ),
                    training_state=TrainingState(
                        optimizer=run.optimizer.state_dict(),
                        shuffle_rng=run.shuffle_rng.get_state(),
                        noise_rng=run.noise_rng.get_state(),
                        discriminator=run.discriminator.state_dict() if run.discriminator else None,
                    ),
                )
                completed = epoch
                if on_epoch is not None:
                    on_epoch(run.history[-1], run.snapshots[epoch])
                if bar.disable and progress:
                    sys.stderr.write(
                        f"{title}: epoch {epoch}/{config.epochs} loss {loss:.2f} recon {-reconstruction:.2f} "
                        f"kl {kl:.2f} | test -ELBO {metrics.neg_elbo:.2f} "
                        f"I(x;z) {split.mutual_information:.2f} | {len(x_train) / seconds:.0f} img/s\n"
                    )
        trained: CheckpointInfo = ranks.from_main(load_info(folder) if ranks.is_main else None)
    except RuntimeError as error:
        if not ranks.distributed or isinstance(error, RankFailure):
            raise
        raise RankFailure(
            f"rank {ranks.rank} of {ranks.world_size} failed in epoch {completed + 1}: {error} (when another "
            f"rank died, its own output says why); the last complete epoch, {completed}, is saved in "
            f"{folder}: run the same command with --resume to continue"
        ) from error
    return trained


def _train_epoch(
    module: nn.Module,
    run: _Run,
    x_train: torch.Tensor,
    config: TrainConfig,
    epoch: int,
    ranks: Ranks,
    bar: tqdm,
    should_stop: Callable[[], bool] | None,
) -> torch.Tensor:
    """One pass over x_train (uint8 [N, C*H*W]) in minibatches of the seeded permutation; -> loss,
    reconstruction and KL summed over the whole epoch (all ranks'): [3]."""
    run.network.train()
    began = time.perf_counter()
    binarized = None
    if config.binarized:  # drawn afresh every epoch, the same on every rank (their generators agree)
        binarized = torch.bernoulli(x_train.float().div_(255.0), generator=run.shuffle_rng)
    totals = torch.zeros(3, device=x_train.device)  # this rank's share
    seen = 0
    batches_per_epoch = -(-len(x_train) // config.batch_size)
    order = torch.randperm(len(x_train), generator=run.shuffle_rng, device=x_train.device)
    for step, batch_indices in enumerate(order.split(config.batch_size)):
        progress = ((epoch - 1) * batches_per_epoch + step) / (config.epochs * batches_per_epoch)
        for group in run.optimizer.param_groups:
            group["lr"] = config.lr_at(progress)
        # Every rank draws the whole global batch's noise from the same generator and keeps its share, so
        # each image meets the same eps as in one process.
        shape = (len(batch_indices), *noise_shape(config, run.network.latent_dim))
        eps = torch.randn(shape, generator=run.noise_rng, device=x_train.device)
        mine = ranks.share(batch_indices)
        x = binarized[mine] if binarized is not None else x_train[mine].float().div_(255.0)
        loss, reconstruction, kl, discriminator_loss = module(x, ranks.share(eps))
        run.optimizer.zero_grad(set_to_none=True)
        # DDP averages the ranks' gradients: each rank's sum scaled by world_size / B makes that average the
        # mean over the global batch, however unevenly the batch splits. FactorVAE's discriminator's loss
        # reaches only its weights, the VAE's only the VAE's: one backward serves both.
        minimised = loss if discriminator_loss is None else loss + discriminator_loss
        (minimised.sum() * (ranks.world_size / len(batch_indices))).backward()
        run.optimizer.step()
        totals += torch.stack([loss.sum(), reconstruction.sum(), kl.sum()]).detach()
        seen += len(mine)
        bar.update()
        if should_stop is not None and should_stop():
            raise TrainingStopped(epoch - 1)
        if step % 25 == 0 and not bar.disable:
            loss_so_far, reconstruction_so_far, kl_so_far = (totals / max(seen, 1)).tolist()
            bar.set_postfix(
                epoch=epoch,
                loss=f"{loss_so_far:.1f}",
                recon=f"{-reconstruction_so_far:.1f}",
                kl=f"{kl_so_far:.2f}",
                img_s=f"{seen * ranks.world_size / (time.perf_counter() - began):.0f}",
            )
    return ranks.sum(totals)
