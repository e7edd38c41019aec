"""A model's full evaluation: the ELBO and its parts, the importance-weighted log-likelihood and its excess
over the ELBO, KL per dimension, and the classifier's quality scores (FID-MNIST of prior samples, of
aggregate-posterior samples and of reconstructions, reconstruction accuracy). Computed once and cached
beside the model as evaluation.json, keyed by everything that changes the numbers.

`Evaluation`'s fields are the one list of figures: each carries its label, description and format, and
the CLI table, the API schema and the lab's table are all made from them."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from model.aggregate_posterior import aggregate_draws
from model.budget import ProgressHook, Stages, affordable_images, decodes_per_second
from model.classifier import Classifier, LoadedClassifier
from model.data import ImageSet
from model.frechet import GaussianStats, frechet_distance
from model.likelihoods import bits_per_dim
from model.metrics import (
    elbo_metrics,
    importance_weighted_log_likelihood,
    importance_weighted_log_likelihoods,
    standard_error,
)
from model.posterior import exact_log_likelihoods
from model.storage import computed_once, read_keyed, readable_folder
from model.vae import LatentModel

EVALUATION_FILE = "evaluation.json"
SEED = 0  # every evaluation draws the same z: the same model and settings always give the same numbers
EXACT_DECODES = 2000  # about what integrating one image's log p(x) costs, in decodes (the progress's weight)


@dataclass(frozen=True, kw_only=True)
class EvaluationSettings:
    """How an evaluation computes: importance samples, z draws per image, test images (None: all), and a
    time budget that takes fewer of them on a slow model or machine."""

    iwae_k: int = 500  # Burda et al. (2016) report log p(x) with k = 5000; 500 is within ~0.1 nats here
    samples: int = 10  # z draws per image behind E_q[log p(x|z)]
    test_limit: int | None = None
    exact_limit: int = 100  # test images whose log p(x) is integrated exactly (2-D models; ~0.1 s each)
    # None: every image of test_limit. Seconds: as many images as the model decodes in about that long here
    # (model.budget; at least 500): the figures' standard errors say what the smaller sample costs.
    budget_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("iwae_k", "samples", "exact_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.test_limit is not None and self.test_limit < 2:
            raise ValueError(f"test_limit must be >= 2 or None, got {self.test_limit}")
        if self.budget_seconds is not None and not self.budget_seconds > 0:
            raise ValueError(f"budget_seconds must be > 0 or None, got {self.budget_seconds}")


# The lab's: about 3 minutes on 2 cores for a conv model, each figure with its standard error; `latent-atlas
# eval` (every test image, k = 500) gives the full figures.
LAB_EVALUATION = EvaluationSettings(iwae_k=100, budget_seconds=120)


def _figure(
    label: str,
    description: str,
    *,
    decimals: int = 2,
    percent: bool = False,
    part: bool = False,
    error: str | None = None,
) -> dict[str, Any]:
    """The metadata of a field shown as a row of the evaluation table (`label` may name fields in braces;
    `error`, the field holding its standard error)."""
    return {
        "label": label,
        "description": description,
        "decimals": decimals,
        "percent": percent,
        "part": part,
        "error": error,
    }


def _detail(description: str) -> dict[str, Any]:
    """The metadata of a field that says how the figures were computed rather than being one."""
    return {"description": description}


@dataclass(frozen=True)
class Evaluation:
    """Test-set figures in nats per image (log-likelihood scale: higher is better) and FID-MNIST."""

    elbo: float = field(
        metadata=_figure(
            "ELBO (nats per image)",
            "E_q[log p(x|z)] - KL(q(z|x) || p(z)) (tutorial Eq. 30)",
            error="elbo_se",
        )
    )
    reconstruction_log_likelihood: float = field(
        metadata=_figure("E_q[log p(x|z)]", "the reconstruction term", part=True)
    )
    kl: float = field(
        metadata=_figure("KL(q(z|x) ‖ p(z))", "the KL term against the prior N(0, I)", part=True)
    )
    iwae: float = field(
        metadata=_figure(
            "log p(x) ≥ IWAE bound, k = {iwae_k}",
            "the k-sample importance-weighted bound (Burda et al., 2016): below log p(x), above the ELBO",
            error="iwae_se",
        )
    )
    iwae_bits_per_dim: float | None = field(
        metadata=_figure(
            "IWAE bound in bits per dimension",
            "-iwae / (C*H*W ln 2), lower is better: how the literature gives a probability mass of 8-bit "
            "images (discretized likelihoods only; a density's nats have no such reading)",
            decimals=3,
        )
    )
    elbo_gap: float = field(
        metadata=_figure(
            "IWAE - ELBO: part of the gap KL(q(z|x) ‖ p(z|x))",
            "iwae - elbo; the ELBO's gap to log p(x) (tutorial Eq. 10) is at least this",
        )
    )
    exact_log_likelihood: float | None = field(
        metadata=_figure(
            "exact log p(x), first {exact_images} images",
            "log p(x) by quadrature over the latent plane (2-D models only): no bound, the evidence itself",
        )
    )
    exact_gap: float | None = field(
        metadata=_figure(
            "log p(x) - ELBO = KL(q(z|x) ‖ p(z|x)), same images",
            "the ELBO's exact gap (tutorial Eq. 10) over the images integrated exactly",
            part=True,
        )
    )
    exact_iwae_part: float | None = field(
        metadata=_figure(
            "IWAE - ELBO, same images", "how much of that exact gap the IWAE bound recovers", part=True
        )
    )
    kl_per_dim: list[float] = field(
        metadata=_figure("KL per dimension", "KL(q(z|x) || p(z)) of each latent dimension")
    )
    active_units: int = field(
        metadata=_figure(
            "active units",
            "dimensions whose posterior mean varies across images: Cov_x(E_q[z_d]) > 0.01 (Burda et al.)",
            decimals=0,
        )
    )
    fid_prior: float = field(
        metadata=_figure(
            "FID-MNIST, prior samples",
            "Frechet distance (Eq. 31), test images vs decoded prior samples (no standard error: a biased "
            "statistic of the whole sample, falling as it grows, so compare FIDs of equal test_images only)",
            decimals=1,
        )
    )
    fid_aggregate: float = field(
        metadata=_figure(
            "FID-MNIST, aggregate-posterior samples",
            "Frechet distance, test images vs decoded draws from the aggregate posterior q(z) of as many "
            "training images (an image at random, then z ~ q(z|x)): prior samples without the prior's holes",
            decimals=1,
        )
    )
    fid_reconstruction: float = field(
        metadata=_figure(
            "FID-MNIST, reconstructions", "Frechet distance, test images vs their reconstructions", decimals=1
        )
    )
    fid_data: float = field(
        metadata=_figure(
            "FID-MNIST, training images (the floor)", "Frechet distance, test vs training images", decimals=1
        )
    )
    reconstruction_accuracy: float = field(
        metadata=_figure(
            "reconstruction accuracy (class kept)",
            "the classifier's accuracy on the reconstructions",
            percent=True,
            error="reconstruction_accuracy_se",
        )
    )
    classifier_accuracy: float = field(
        metadata=_figure(
            "classifier accuracy on test images", "the classifier's accuracy on the test images", percent=True
        )
    )
    likelihood: str = field(metadata=_detail("the likelihood p(x|z) every figure was scored by, named"))
    elbo_se: float | None = field(metadata=_detail("the ELBO's standard error over the test images"))
    iwae_se: float | None = field(metadata=_detail("the IWAE bound's standard error over the test images"))
    reconstruction_accuracy_se: float = field(
        metadata=_detail("the reconstruction accuracy's standard error: sqrt(p (1 - p) / N)")
    )
    iwae_k: int = field(metadata=_detail("importance samples behind the IWAE bound"))
    test_images: int = field(metadata=_detail("test images evaluated (the first ones of the test set)"))
    exact_images: int = field(
        metadata=_detail("test images whose log p(x) was computed by quadrature (0 unless the model is 2-D)")
    )
    samples: int = field(metadata=_detail("z draws per image behind E_q[log p(x|z)]"))
    seconds: float = field(metadata=_detail("how long the computation took"))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FigureRow:
    """How one figure of `Evaluation` is shown: the same in the CLI, the API's schema and the lab."""

    key: str
    label: str
    description: str
    decimals: int
    percent: bool
    part: bool  # a term of the row above it
    error: str | None  # the field holding its standard error

    def applies_to(self, evaluation: Evaluation) -> bool:
        """False for a figure the model has none of (exact log p(x) of a model that is not 2-D)."""
        return getattr(evaluation, self.key) is not None

    def label_for(self, evaluation: Evaluation) -> str:
        return self.label.format(**evaluation.as_dict())

    def format(self, value: float | list[float]) -> str:
        if isinstance(value, list):
            return " ".join(self.format(v) for v in value)
        return f"{value:.{self.decimals}%}" if self.percent else f"{value:.{self.decimals}f}"

    def shown(self, evaluation: Evaluation) -> str:
        """Its value as the table shows it, "value ± standard error" where it has one."""
        error = None if self.error is None else getattr(evaluation, self.error)
        value = self.format(getattr(evaluation, self.key))
        return value if error is None else f"{value} ± {self.format(error)}"


FIGURE_ROWS: tuple[FigureRow, ...] = tuple(
    FigureRow(key=f.name, **f.metadata) for f in fields(Evaluation) if "label" in f.metadata
)
FIELD_DESCRIPTIONS: dict[str, str] = {f.name: f.metadata["description"] for f in fields(Evaluation)}


def evaluation_key(
    weights: str, classifier: LoadedClassifier, test_set: ImageSet, settings: EvaluationSettings
) -> dict[str, Any]:
    """What a cached evaluation must match to be reused: the weights' fingerprint, the classifier and the
    settings."""
    return {
        "weights": weights,
        "classifier": classifier.info.fingerprint,
        "test_images": len(test_set.head(settings.test_limit)),
        "iwae_k": settings.iwae_k,
        "samples": settings.samples,
        "exact_limit": settings.exact_limit,
        "budget_seconds": settings.budget_seconds,
    }


@torch.inference_mode()
def _features(classifier: Classifier, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x: [N, C*H*W] -> (penultimate features [N, 128], predicted labels [N])."""
    features = torch.cat([classifier.features(batch) for batch in x.split(2000)])
    return features, classifier.head(features).argmax(dim=1)


@dataclass(frozen=True)
class _Exact:
    """Exact log p(x) and the two bounds over the first test images, in nats per image."""

    log_likelihood: float
    elbo: float
    iwae: float
    images: int


def _exact(network: LatentModel, x: torch.Tensor, settings: EvaluationSettings) -> _Exact | None:
    """For a 2-D model, exact log p(x) over the first `exact_limit` images of x and the ELBO and IWAE
    bound over the same images (so the gap is measured, not bounded); None for any other model."""
    if network.latent_dim != 2:
        return None
    x = x[: settings.exact_limit]
    return _Exact(
        log_likelihood=float(exact_log_likelihoods(network, x).mean()),
        elbo=-elbo_metrics(network, x, samples=settings.samples, seed=SEED).neg_elbo,
        iwae=importance_weighted_log_likelihood(network, x, k=settings.iwae_k, seed=SEED),
        images=len(x),
    )


@torch.inference_mode()
def _decoded(network: LatentModel, z: torch.Tensor) -> torch.Tensor:
    return torch.cat([network.decode_mean(batch).clamp(0.0, 1.0) for batch in z.split(2000)])


def evaluate_model(
    network: LatentModel,
    classifier: LoadedClassifier,
    test_set: ImageSet,
    train_set: ImageSet,
    settings: EvaluationSettings,
    progress: ProgressHook | None = None,
) -> Evaluation:
    """Every figure of the evaluation for `network` on the settings' slice of `test_set` (seeded), the
    slice cut to the budget's images when there is one. `progress` hears each stage's progress and may raise
    EvaluationStopped to stop the work between batches."""
    began = time.perf_counter()
    test_set = test_set.head(settings.test_limit)
    device = next(network.parameters()).device
    decodes = settings.samples + settings.iwae_k + 3  # per image: the ELBO's, the bound's, FID's three
    if settings.budget_seconds is not None:
        rate = decodes_per_second(network, device)
        test_set = test_set.head(affordable_images(rate, decodes, settings.budget_seconds, len(test_set)))
    judge = classifier.network.to(device)
    x = test_set.pixels(device)
    integrated = min(settings.exact_limit, len(x)) if network.latent_dim == 2 else 0
    exact_weight = EXACT_DECODES * integrated / len(x)
    stages = Stages(
        {"ELBO": settings.samples, "IWAE bound": settings.iwae_k, "exact log p(x)": exact_weight, "FID": 3},
        progress,
    )
    stages.start("ELBO")
    metrics = elbo_metrics(
        network, x, samples=settings.samples, seed=SEED, on_batch=stages.batches("ELBO", len(x))
    )
    stages.start("IWAE bound")
    bounds = importance_weighted_log_likelihoods(
        network, x, k=settings.iwae_k, seed=SEED, on_batch=stages.batches("IWAE bound", len(x))
    )
    iwae = float(bounds.mean())
    stages.start("exact log p(x)")
    exactly = _exact(network, x, settings)
    stages.start("FID")
    with torch.inference_mode():
        mu = torch.cat([network.encode(batch).mu for batch in x.split(2000)])
        generator = torch.Generator().manual_seed(SEED)
        z_prior = torch.randn((len(test_set), network.latent_dim), generator=generator).to(device)
        z_aggregate = aggregate_draws(network, train_set, len(test_set), generator)
    test_features, test_predictions = _features(judge, x)
    reconstruction_features, reconstruction_predictions = _features(judge, _decoded(network, mu))
    prior_features, _ = _features(judge, _decoded(network, z_prior))
    aggregate_features, _ = _features(judge, _decoded(network, z_aggregate))
    data_features, _ = _features(judge, train_set.head(len(test_set)).pixels(device))
    real = GaussianStats.of(test_features)
    labels = test_set.labels.to(device)
    elbo = -metrics.neg_elbo
    kept = (reconstruction_predictions == labels).float()
    accuracy = float(kept.mean())
    return Evaluation(
        elbo=elbo,
        elbo_se=metrics.neg_elbo_se,
        reconstruction_log_likelihood=-metrics.reconstruction_nll,
        kl=metrics.kl,
        kl_per_dim=metrics.kl_per_dim,
        active_units=metrics.active_units,
        iwae=iwae,
        iwae_se=standard_error(bounds),
        iwae_k=settings.iwae_k,
        iwae_bits_per_dim=bits_per_dim(iwae, x.shape[1]) if network.likelihood.discrete else None,
        likelihood=network.likelihood_label,
        elbo_gap=iwae - elbo,
        exact_log_likelihood=None if exactly is None else exactly.log_likelihood,
        exact_gap=None if exactly is None else exactly.log_likelihood - exactly.elbo,
        exact_iwae_part=None if exactly is None else exactly.iwae - exactly.elbo,
        exact_images=0 if exactly is None else exactly.images,
        fid_prior=frechet_distance(real, GaussianStats.of(prior_features)),
        fid_aggregate=frechet_distance(real, GaussianStats.of(aggregate_features)),
        fid_reconstruction=frechet_distance(real, GaussianStats.of(reconstruction_features)),
        fid_data=frechet_distance(real, GaussianStats.of(data_features)),
        reconstruction_accuracy=accuracy,
        reconstruction_accuracy_se=math.sqrt(accuracy * (1 - accuracy) / len(kept)),
        classifier_accuracy=float((test_predictions == labels).float().mean()),
        test_images=len(test_set),
        samples=settings.samples,
        seconds=time.perf_counter() - began,
    )


def read_cached(folder: Path, key: dict[str, Any]) -> Evaluation | None:
    """The cached evaluation of the model in `folder` if it was computed with `key`, else None."""
    return read_keyed(readable_folder(folder) / EVALUATION_FILE, key, "evaluation", _evaluation_of)


def _evaluation_of(data: Any) -> Evaluation:
    return Evaluation(**data)


def cached_evaluation(
    folder: Path,
    network: LatentModel,
    classifier: LoadedClassifier,
    test_set: ImageSet,
    train_set: ImageSet,
    settings: EvaluationSettings,
    *,
    weights: str,
    refresh: bool = False,
    progress: ProgressHook | None = None,
) -> Evaluation:
    """The evaluation of `network` (whose weights have the fingerprint `weights`), cached in `folder`:
    read from evaluation.json when it matches, else computed (a minute or two on a CPU; `progress` hears
    how far, and may stop it by raising EvaluationStopped) and written there whole, once of several
    processes asking at once."""
    return computed_once(
        readable_folder(folder) / EVALUATION_FILE,
        evaluation_key(weights, classifier, test_set, settings),
        "evaluation",
        lambda: evaluate_model(network, classifier, test_set, train_set, settings, progress),
        encode=Evaluation.as_dict,
        decode=_evaluation_of,
        refresh=refresh,
    )
