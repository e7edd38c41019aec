"""Per-image metrics of a data split, for colouring and filtering the map: each image's importance-weighted
log p(x), ELBO, reconstruction error, KL and posterior entropy, in nats. Computed once per model and split
(in the background: 70,000 MNIST digits take about a minute on two cores) and cached beside the model as
`point-metrics/<split>.safetensors`; an uploaded image's log p(x) is then placed among the test images'.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from model.data import ImageSet
from model.metrics import BatchHook, evaluating
from model.tensor_cache import read_cached, write_cached
from model.vae import LatentModel, prior_log_prob

PIXEL_CHUNK = 5_000  # images made float pixels at once, not a whole split (MNIST's training split: ~190 MB)
POINT_METRIC_K = 50  # importance samples per image: Burda et al.'s k = 50, a few seconds per 10,000 digits
SEED = 0
# name -> (title, what it is): the one list the API, the page's "colour by" choice and its histograms follow.
POINT_METRICS: dict[str, tuple[str, str]] = {
    "log_px": (
        "log p(x)",
        f"the importance-weighted bound on log p(x), k = {POINT_METRIC_K} (Burda et al., 2016): how "
        "likely the model finds the image",
    ),
    "elbo": ("ELBO", "E_q[log p(x|z)] - KL(q(z|x) || p(z)), the first term from the same samples"),
    "reconstruction": ("reconstruction error", "-E_q[log p(x|z)]: how badly the image is reconstructed"),
    "kl": ("KL", "KL(q(z|x) || p(z)), analytic: how far the image's posterior is from the prior"),
    "entropy": ("posterior entropy", "H[q(z|x)]: how wide the image's posterior is"),
}
TYPICALITY_CAVEAT = (
    "A likelihood can mislead away from the training data: VAEs often give images unlike any they were "
    "trained on (simpler ones, other data sets) a higher log p(x) than their own (Nalisnick et al., 2019)."
)


@torch.inference_mode()
def point_metrics(
    network: LatentModel,
    x: torch.Tensor,
    *,
    k: int = POINT_METRIC_K,
    seed: int = SEED,
    batch_size: int = 500,
    on_batch: BatchHook | None = None,
) -> dict[str, torch.Tensor]:
    """Every metric of POINT_METRICS for each image of x: [N, C*H*W] -> name -> [N] (float32, nats)."""
    generator = torch.Generator(device=x.device).manual_seed(seed)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in POINT_METRICS}
    with evaluating(network):
        done = 0
        for batch in x.split(batch_size):
            posterior = network.encode(batch)
            eps = torch.randn((k, *posterior.mu.shape), generator=generator, device=x.device)
            z = posterior.reparametrise(eps)  # [k, B, D]
            log_likelihood = network.log_likelihood(z, batch)  # [k, B]
            log_w = log_likelihood + prior_log_prob(z) - posterior.log_prob_of_noise(eps)
            kl = posterior.kl()
            reconstruction = -log_likelihood.mean(dim=0)
            values = {
                "log_px": torch.logsumexp(log_w, dim=0) - math.log(k),
                "elbo": -reconstruction - kl,
                "reconstruction": reconstruction,
                "kl": kl,
                # H[N(mu, sigma^2)] = sum_d (log(2 pi e) + log sigma_d^2) / 2
                "entropy": 0.5 * (posterior.logvar + math.log(2 * math.pi * math.e)).sum(dim=1),
            }
            for name, value in values.items():
                parts[name].append(value.float().cpu())
            done += len(batch)
            if on_batch is not None:
                on_batch(done)
    return {name: torch.cat(chunks) for name, chunks in parts.items()}


def split_metrics(
    network: LatentModel, images: ImageSet, *, on_batch: BatchHook | None = None, batch_size: int = 500
) -> dict[str, torch.Tensor]:
    """point_metrics of a split, its pixels made batch by batch (a training split as floats is ~190 MB)."""
    device = next(network.parameters()).device
    parts: list[dict[str, torch.Tensor]] = []
    done = 0

    def report(images_done: int) -> None:
        if on_batch is not None:
            on_batch(done + images_done)

    for start in range(0, len(images), PIXEL_CHUNK):
        end = start + PIXEL_CHUNK
        chunk = ImageSet(images.images[start:end], images.labels[start:end])
        parts.append(point_metrics(network, chunk.pixels(device), batch_size=batch_size, on_batch=report))
        done += len(chunk)
    return {name: torch.cat([part[name] for part in parts]) for name in POINT_METRICS}


def percentile(values: torch.Tensor, value: float) -> float:
    """The share of values below `value`, in percent (ties count half)."""
    below = float((values < value).sum()) + 0.5 * float((values == value).sum())
    return 100.0 * below / len(values)


@dataclass(frozen=True)
class MetricsKey:
    """What cached metrics must match to be reused: the weights, the data set and split (its size, and
    whether it is binarized), k and the seed."""

    weights: str
    dataset: str
    split: str
    points: int
    binarized: bool
    k: int = POINT_METRIC_K
    seed: int = SEED

    def metadata(self) -> dict[str, str]:
        return {"key": json.dumps(vars(self), sort_keys=True)}

    def path(self, folder: Path) -> Path:
        return folder / "point-metrics" / f"{self.split}.safetensors"


def read_metrics(folder: Path, key: MetricsKey) -> dict[str, torch.Tensor] | None:
    """The cached metrics `key` names, or None (none cached, or another's)."""
    values = read_cached(key.path(folder), key.metadata(), tuple(POINT_METRICS))
    if values is None or any(len(value) != key.points for value in values.values()):
        return None
    return values


def write_metrics(folder: Path, key: MetricsKey, values: dict[str, torch.Tensor]) -> None:
    """Cache the metrics, written whole (a reader sees the old file or the new one)."""
    write_cached(key.path(folder), {name: values[name] for name in POINT_METRICS}, key.metadata())
