"""A model's disentanglement scores as the lab keeps them: the images of a data set's known factors as the
metrics' source, every metric computed once and cached beside the model (disentanglement.json, keyed by the
weights and the settings), and the sweep's grouping of models that differ only by their seed."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

from model.budget import ProgressHook
from model.checkpoint import CheckpointInfo
from model.config import WEIGHTED_LOSSES, TrainConfig
from model.data import DatasetInfo
from model.disentanglement import Dci, DisentanglementSettings, EncodedFactors, Scores, scores_of
from model.sources import sprites
from model.storage import computed_once, read_keyed, readable_folder
from model.vae import LatentModel

SCORES_FILE = "disentanglement.json"
# The lab's counts: a tenth of disentanglement_lib's, so a model is scored in about a minute on a CPU; the
# standard errors over seeds dwarf the sampling error left (`latent-atlas disentanglement` takes the full
# counts).
LAB_SETTINGS = DisentanglementSettings(points=1_000, eval_points=500)


def draws_factors(dataset: DatasetInfo) -> bool:
    """Whether images of `dataset` can be drawn at any values of its factors (what the metrics need): true
    of the sets built here (sprites), not of a set whose factors are only its images' labels."""
    return dataset.key in sprites.GRIDS


def factor_source(network: LatentModel, dataset: DatasetInfo) -> EncodedFactors | None:
    """The network's codes of images drawn at chosen factor values of `dataset`, or None when images cannot
    be drawn at will for its factors (draws_factors)."""
    if not draws_factors(dataset):
        return None
    grid = sprites.GRIDS[dataset.key]
    return EncodedFactors(network, partial(sprites.images_of, grid), grid.sizes)


def scores_key(weights: str, dataset: DatasetInfo, settings: DisentanglementSettings) -> dict[str, Any]:
    """What cached scores must match to be reused: the weights' fingerprint, the data set and the settings."""
    return {"weights": weights, "dataset": dataset.key, **asdict(settings)}


def read_scores(folder: Path, key: dict[str, Any]) -> Scores | None:
    """The cached scores of the model in `folder` if they were computed with `key`, else None."""
    return read_keyed(readable_folder(folder) / SCORES_FILE, key, "scores", _decoded)


def _decoded(data: Any) -> Scores:
    return Scores(**{**data, "dci": Dci(**data["dci"])})


def cached_scores(
    folder: Path,
    network: LatentModel,
    dataset: DatasetInfo,
    settings: DisentanglementSettings = LAB_SETTINGS,
    *,
    weights: str,
    progress: ProgressHook | None = None,
) -> Scores:
    """Every metric of `network` (whose weights have the fingerprint `weights`) on `dataset`'s factors,
    cached in `folder`: read when the key matches, else computed (`progress` hears how far and may stop it
    by raising EvaluationStopped) and written whole; ValueError when the factors cannot be drawn."""
    source = factor_source(network, dataset)
    if source is None:
        raise ValueError(f"{dataset.title} has no factors of variation that images can be drawn at")
    return computed_once(
        readable_folder(folder) / SCORES_FILE,
        scores_key(weights, dataset, settings),
        "scores",
        lambda: scores_of(source, settings, progress),
        encode=asdict,
        decode=_decoded,
    )


def recipe_of(info: CheckpointInfo) -> tuple[str, str]:
    """What a model was trained on and with, all but its seed (and device): models of one recipe are one
    sweep point's seeds. -> (data set key, the model and training settings as one comparable text)."""
    train = replace(info.train_config, seed=0, device="auto")
    return info.dataset.key, repr((info.model_config, train))


def penalty_weight(config: TrainConfig) -> float | None:
    """The sweep's beta: the weight of the KL term (beta-VAE; 1 for a VAE, 0 reconstruction only) or of the
    total correlation (beta-TCVAE, FactorVAE); None for objectives off that axis (KL only, IWAE)."""
    if config.loss in WEIGHTED_LOSSES:
        return config.beta
    return {"full": 1.0, "recon": 0.0}.get(config.loss)


def seed_spread(values: list[float]) -> tuple[float, float | None]:
    """The mean of a score over seeds and its standard error (None for one seed)."""
    if len(values) < 2:
        return values[0], None
    return statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values))
