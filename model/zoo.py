"""The zoos: the default models (the tutorial's three 2-D latent maps and a 16-D model for quality), the
beta sweep behind the rate-distortion curve, and the classifier behind their evaluation."""

from __future__ import annotations

import math
import sys
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from model.checkpoint import CheckpointInfo, load_info
from model.classifier import ClassifierConfig, is_trained, train_classifier
from model.config import Architecture, ModelConfig, TrainConfig
from model.data import Dataset, DatasetInfo
from model.home import classifier_folder, models_root
from model.job_queue import JobSpec
from model.likelihoods import suited_to
from model.parallel import side_by_side
from model.sources import mnist
from model.train import train

ZooName = Literal["default", "beta", "disentanglement"]
ZOO_NAMES: tuple[str, ...] = get_args(ZooName)


@dataclass(frozen=True)
class ZooEntry:
    model_id: str
    title: str
    model_config: ModelConfig
    train_config: TrainConfig


# Settings measured so the whole zoo trains in about 3 minutes on a 2-core CPU (see README): the
# cosine schedule buys a lower loss for the same epochs.
_TWO_D = ModelConfig(latent_dim=2, hidden=(256, 256))
# The 2-D models' training, also the recipe of models trained from the page.
RECIPE = TrainConfig(epochs=10, batch_size=128, lr=2e-3, lr_schedule="cosine")

DEFAULT_ZOO: tuple[ZooEntry, ...] = (
    ZooEntry("full-2d", "Full ELBO, 2-D latent", _TWO_D, RECIPE),
    ZooEntry("recon-2d", "Reconstruction only, 2-D latent", _TWO_D, replace(RECIPE, loss="recon")),
    # KL alone pulls every code onto the prior within an epoch; more epochs would change nothing.
    ZooEntry("kl-2d", "KL only, 2-D latent", _TWO_D, replace(RECIPE, loss="kl", epochs=2)),
    ZooEntry(
        "full-16d",
        "Full ELBO, 16-D latent",
        ModelConfig(latent_dim=16, hidden=(512, 256)),
        TrainConfig(epochs=13, batch_size=128, lr=1e-3, lr_schedule="cosine"),
    ),
)

# The beta sweep (Higgins et al., 2017): the same 2-D model and training as full-2d with the KL term
# weighted by beta. beta = 0 is recon-2d and beta = 1 is full-2d, so the sweep reuses them, and kl-2d is
# its far end: the rate-distortion curve runs from recon-2d to kl-2d.
BETA_SWEEP: tuple[float, ...] = (0.0, 0.1, 0.5, 1.0, 2.0, 4.0, 8.0)


def sweep_model_id(beta: float) -> str:
    """The model id of one beta in the sweep: ids allow no dots, so 0.5 is spelled 0p5."""
    named = {0.0: "recon-2d", 1.0: "full-2d"}
    return named.get(beta) or f"beta-{beta:g}-2d".replace(".", "p")


def sweep_ids() -> list[str]:
    """The sweep's models from beta = 0 to KL-only, in order."""
    return [*(sweep_model_id(beta) for beta in BETA_SWEEP), "kl-2d"]


BETA_ZOO: tuple[ZooEntry, ...] = tuple(
    ZooEntry(
        sweep_model_id(beta),
        f"beta = {beta:g}, 2-D latent",
        _TWO_D,
        replace(RECIPE, loss="beta", beta=beta),
    )
    for beta in BETA_SWEEP
    if beta not in (0.0, 1.0)
)


# The disentanglement sweep (issue: Locatello et al., 2019, found seeds and hyperparameters dominate the
# scores): a plain VAE, a beta-VAE, a beta-TCVAE and a FactorVAE, three seeds each, on a set of known
# factors. Chen et al.'s (2018) dSprites encoder is an MLP of 1200-1200 with a 10-D latent. A zoo on a set
# ten times MNIST's or more trains for MNIST's steps (_epochs_for): 24 MNIST epochs of steps are 2 passes
# over sprites, about 19 minutes a model on 2 CPU cores (the budget is 20; a FactorVAE's
# discriminator adds to it).
_DISENTANGLING = ModelConfig(latent_dim=10, hidden=(1200, 1200))
_SWEEP_RECIPE = replace(RECIPE, epochs=24, lr=1e-3)
DISENTANGLEMENT_SEEDS = (0, 1, 2)
DISENTANGLEMENT_OBJECTIVES: tuple[tuple[str, TrainConfig], ...] = (
    ("vae", _SWEEP_RECIPE),
    ("beta4", replace(_SWEEP_RECIPE, loss="beta", beta=4.0)),
    ("tcvae6", replace(_SWEEP_RECIPE, loss="tcvae", beta=6.0)),
    # FactorVAE's gamma 30, inside disentanglement_lib's sweep (10 to 100); beta = gamma + 1 weighs the TC
    ("factorvae30", replace(_SWEEP_RECIPE, loss="factorvae", beta=31.0)),
)
DISENTANGLEMENT_ZOO: tuple[ZooEntry, ...] = tuple(
    ZooEntry(
        f"{name}-10d-s{seed}",
        f"{config.objective_title}, 10-D latent, seed {seed}",
        _DISENTANGLING,
        replace(config, seed=seed),
    )
    for name, config in DISENTANGLEMENT_OBJECTIVES
    for seed in DISENTANGLEMENT_SEEDS
)


def zoo_model_id(dataset_key: str, base_id: str) -> str:
    """A zoo model's id for a data set: MNIST's keep the bare ids (full-2d), others are prefixed
    (characters-full-2d), so every data set's zoo can live in one home."""
    return base_id if dataset_key == mnist.INFO.key else f"{dataset_key}-{base_id}"


def model_title(config: TrainConfig, latent_dim: int) -> str:
    """A model's display name from what it was trained with, as the zoo's are named ("Full ELBO, 2-D
    latent")."""
    return f"{config.objective_title}, {latent_dim}-D latent"


def suggested_model_id(
    dataset_key: str, architecture: Architecture, latent_dim: int, config: TrainConfig, taken: Collection[str]
) -> str:
    """An id for a new model from what it trains with: [data set-]objective-<D>d[-conv][-bin] (beta-0p5-2d,
    tcvae-6-10d, factorvae-g30-10d, iwae-k5-16d-conv-bin, characters-full-2d), numbered past the ids
    `taken` (-2, -3, ...)."""
    objective = {
        "beta": f"beta-{config.beta:g}".replace(".", "p"),
        "tcvae": f"tcvae-{config.beta:g}".replace(".", "p"),
        "factorvae": f"factorvae-g{config.beta - 1:g}".replace(".", "p"),
        "iwae": f"iwae-k{config.iwae_k}",
    }
    named = objective.get(config.loss, config.loss)
    suffix = ("-conv" if architecture == "conv" else "") + ("-bin" if config.binarized else "")
    base = zoo_model_id(dataset_key, f"{named}-{latent_dim}d{suffix}")
    found, number = base, 2
    while found in taken:
        found, number = f"{base}-{number}", number + 1
    return found


LARGE_SET = 10 * mnist.TRAIN_SIZE  # from here a zoo trains for MNIST's steps, not for its epochs


def _epochs_for(epochs: int, train_size: int) -> int:
    """A zoo recipe's epochs on a set of `train_size` images: as many minibatch steps as on MNIST for a
    smaller set (a folder of 2,500 images would otherwise get 200 steps, too few to leave the prior) and
    for a set ten times MNIST's or more (a million glyphs would otherwise train for hours on a CPU), at
    least one epoch; the recipe's own epochs in between."""
    steps_as_mnist = epochs * mnist.TRAIN_SIZE / train_size
    if train_size >= LARGE_SET:
        return max(1, round(steps_as_mnist))
    return max(epochs, math.ceil(steps_as_mnist))


QUICK_EPOCHS = 3  # for tests and demos: minutes become seconds, the maps keep their shape
QUICK_TRAIN_LIMIT = 12_000


def zoo_entries(
    *,
    dataset: DatasetInfo = mnist.INFO,
    train_size: int = mnist.TRAIN_SIZE,
    quick: bool = False,
    device: str = "auto",
    zoo: ZooName = "default",
) -> list[ZooEntry]:
    """A zoo's models of `dataset` (of `train_size` training images) for `device`: "default", "beta"
    (the sweep with the 2-D models it reuses), or "disentanglement" (of a set of known factors); `quick`
    trains a few epochs on a fixed slice of the training set. A much smaller or much larger data set trains
    for MNIST's steps (_epochs_for)."""
    if zoo not in ZOO_NAMES:
        raise ValueError(f"zoo must be one of {', '.join(ZOO_NAMES)}, got {zoo!r}")
    if zoo == "disentanglement" and not dataset.factors:
        raise ValueError(
            f"the disentanglement zoo needs a data set of known factors (sprites); {dataset.title} has none"
        )
    chosen = {
        "default": DEFAULT_ZOO,
        "beta": (*DEFAULT_ZOO[:3], *BETA_ZOO),
        "disentanglement": DISENTANGLEMENT_ZOO,
    }[zoo]
    entries = []
    for entry in chosen:
        epochs = _epochs_for(entry.train_config.epochs, train_size)
        train_config = replace(entry.train_config, device=device, epochs=epochs)
        if quick:
            train_config = replace(train_config, epochs=QUICK_EPOCHS, train_limit=QUICK_TRAIN_LIMIT)
        entries.append(
            ZooEntry(
                zoo_model_id(dataset.key, entry.model_id),
                entry.title,
                replace(
                    entry.model_config,
                    image_shape=dataset.image_shape,
                    likelihood=suited_to(dataset.image_shape[0]),
                ),
                train_config,
            )
        )
    return entries


def classifier_config(*, quick: bool = False, device: str = "auto") -> ClassifierConfig:
    """The classifier trained with a zoo; `quick` trains 2 epochs on the same slice as the models."""
    if quick:
        return ClassifierConfig(epochs=2, train_limit=QUICK_TRAIN_LIMIT, device=device)
    return ClassifierConfig(device=device)


def is_complete(folder: Path) -> bool:
    """True when `folder` holds a model trained for all its epochs (a damaged folder raises)."""
    if not folder.exists():
        return False
    info = load_info(folder)
    return info.epochs_completed >= info.train_config.epochs


def missing_entries(home: Path, entries: list[ZooEntry]) -> list[ZooEntry]:
    return [entry for entry in entries if not is_complete(models_root(home) / entry.model_id)]


def zoo_jobs(
    home: Path,
    dataset: DatasetInfo,
    train_size: int,
    *,
    zoo: ZooName = "default",
    quick: bool = False,
    device: str = "auto",
) -> list[JobSpec]:
    """The training jobs that would complete a zoo of `dataset` under `home`: its missing models, then the
    data set's classifier if it has labels and none is trained."""
    entries = zoo_entries(dataset=dataset, train_size=train_size, quick=quick, device=device, zoo=zoo)
    specs = [
        JobSpec(
            kind="model",
            target=entry.model_id,
            title=entry.title,
            dataset=dataset.key,
            model_config=entry.model_config,
            train_config=entry.train_config,
            replace=True,  # a partly trained folder of an interrupted `train --zoo` is trained anew
        )
        for entry in missing_entries(home, entries)
    ]
    classifier = classifier_job(home, dataset, quick=quick, device=device)
    return specs if classifier is None else [*specs, classifier]


def classifier_job(
    home: Path, dataset: DatasetInfo, *, quick: bool = False, device: str = "auto"
) -> JobSpec | None:
    """The job that trains `dataset`'s classifier (what the lab judges its models' images with), or None
    when one is trained or the data set has no labels."""
    if not dataset.labelled or is_trained(classifier_folder(home, dataset.key)):
        return None
    return JobSpec(
        kind="classifier",
        target=dataset.key,
        title=f"classifier of {dataset.title}",
        dataset=dataset.key,
        classifier_config=classifier_config(quick=quick, device=device),
    )


def train_zoo(
    home: Path,
    entries: list[ZooEntry],
    dataset: Dataset,
    *,
    progress: bool = True,
    classifier: ClassifierConfig | None = None,
    parallel: int = 1,
) -> list[CheckpointInfo]:
    """Train what is missing of `entries` on `dataset` under `home`, then the data set's classifier
    with `classifier`'s settings if there is none yet (and the data set has labels); a partly trained
    model resumes where it stopped. `parallel` > 1 trains that many at a time in worker processes
    (model.parallel); a model that fails there ends only itself, and the failures are raised together
    once the others are done."""
    parts: list[ZooEntry | ClassifierConfig] = list(missing_entries(home, entries))
    if (
        classifier is not None
        and dataset.info.labelled
        and not is_trained(classifier_folder(home, dataset.info.key))
    ):
        parts.append(classifier)
    if parallel == 1:
        infos = [_train_part(dataset, None, (home, part, progress)) for part in parts]
        return [info for info in infos if info is not None]
    devices = {
        part.device if isinstance(part, ClassifierConfig) else part.train_config.device for part in parts
    }
    # Longest first, so no worker is left with a long training while the other idles: the classifier
    # (the costliest per image), then the models by their epochs.
    parts.sort(key=lambda part: math.inf if isinstance(part, ClassifierConfig) else part.train_config.epochs)
    trained: list[CheckpointInfo] = []
    failures: list[str] = []
    for outcome in side_by_side(
        _train_part,
        [(home, part, False) for part in reversed(parts)],
        dataset,
        workers=parallel,
        device=devices.pop() if len(devices) == 1 else "auto",  # the workers' devices
    ):
        name = _part_name(outcome.item[1], dataset)
        if outcome.error is not None:
            failures.append(f"{name}: {outcome.error}")
        elif outcome.result is not None:
            trained.append(outcome.result)
        if progress:
            print(f"{name}: {'failed' if outcome.error else 'trained'}", file=sys.stderr, flush=True)
    if failures:
        raise ValueError(f"{len(failures)} of {len(parts)} trainings failed: " + "; ".join(failures))
    return trained


def _part_name(part: ZooEntry | ClassifierConfig, dataset: Dataset) -> str:
    return part.model_id if isinstance(part, ZooEntry) else f"classifier of {dataset.info.title}"


def _train_part(
    dataset: Dataset, device: str | None, item: tuple[Path, ZooEntry | ClassifierConfig, bool]
) -> CheckpointInfo | None:
    """Train one model of a zoo (-> its checkpoint) or the data set's classifier (-> None), on `device`
    when a worker was given one."""
    home, part, progress = item
    if isinstance(part, ClassifierConfig):
        config = part if device is None else replace(part, device=device)
        train_classifier(classifier_folder(home, dataset.info.key), config, dataset, progress=progress)
        return None
    train_config = part.train_config if device is None else replace(part.train_config, device=device)
    return train(
        models_root(home) / part.model_id,
        model_id=part.model_id,
        title=part.title,
        model_config=part.model_config,
        config=train_config,
        dataset=dataset,
        resume=True,
        progress=progress,
    )
