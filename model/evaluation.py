"""A model's full evaluation: the ELBO and its parts, the importance-weighted log-likelihood and its excess
over the ELBO, KL per dimension, and the classifier's quality scores (FID-MNIST of prior samples and of
reconstructions, reconstruction accuracy). Computed once and cached beside the model as evaluation.json,
keyed by everything that changes the numbers.

`Evaluation`'s fields are the one list of figures: each carries its label, description and format, and
the CLI table, the API schema and the lab's table are all made from them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock

from model.classifier import Classifier, LoadedClassifier
from model.data import ImageSet
from model.frechet import GaussianStats, frechet_distance
from model.likelihoods import bits_per_dim
from model.metrics import elbo_metrics, importance_weighted_log_likelihood
from model.posterior import exact_log_likelihoods
from model.storage import readable_folder, write_file_atomically
from model.vae import LatentModel

EVALUATION_FILE = "evaluation.json"
EVALUATION_LOCK = ".evaluation.lock"  # held while one process computes the evaluation
SEED = 0  # every evaluation draws the same z: the same model and settings always give the same numbers


@dataclass(frozen=True, kw_only=True)
class EvaluationSettings:
    """How an evaluation computes: importance samples, z draws per image, test images (None: all)."""

    iwae_k: int = 500  # Burda et al. (2016) report log p(x) with k = 5000; 500 is within ~0.1 nats here
    samples: int = 10  # z draws per image behind E_q[log p(x|z)]
    test_limit: int | None = None
    exact_limit: int = 100  # test images whose log p(x) is integrated exactly (2-D models; ~0.1 s each)

    def __post_init__(self) -> None:
        for name in ("iwae_k", "samples", "exact_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.test_limit is not None and self.test_limit < 2:
            raise ValueError(f"test_limit must be >= 2 or None, got {self.test_limit}")


def _figure(
    label: str, description: str, *, decimals: int = 2, percent: bool = False, part: bool = False
) -> dict[str, Any]:
    """The metadata of a field shown as a row of the evaluation table (`label` may name fields in braces)."""
    return {
        "label": label,
        "description": description,
        "decimals": decimals,
        "percent": percent,
        "part": part,
    }


def _detail(description: str) -> dict[str, Any]:
    """The metadata of a field that says how the figures were computed rather than being one."""
    return {"description": description}


@dataclass(frozen=True)
class Evaluation:
    """Test-set figures in nats per image (log-likelihood scale: higher is better) and FID-MNIST."""

    elbo: float = field(
        metadata=_figure("ELBO (nats per image)", "E_q[log p(x|z)] - KL(q(z|x) || p(z)) (tutorial Eq. 30)")
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
            "Frechet distance (Eq. 31), test images vs decoded prior samples",
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
        )
    )
    classifier_accuracy: float = field(
        metadata=_figure(
            "classifier accuracy on test images", "the classifier's accuracy on the test images", percent=True
        )
    )
    likelihood: str = field(metadata=_detail("the likelihood p(x|z) every figure was scored by, named"))
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

    def applies_to(self, evaluation: Evaluation) -> bool:
        """False for a figure the model has none of (exact log p(x) of a model that is not 2-D)."""
        return getattr(evaluation, self.key) is not None

    def label_for(self, evaluation: Evaluation) -> str:
        return self.label.format(**evaluation.as_dict())

    def format(self, value: float | list[float]) -> str:
        if isinstance(value, list):
            return " ".join(self.format(v) for v in value)
        return f"{value:.{self.decimals}%}" if self.percent else f"{value:.{self.decimals}f}"


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
) -> Evaluation:
    """Every figure of the evaluation for `network` on the settings' slice of `test_set` (seeded)."""
    began = time.perf_counter()
    test_set = test_set.head(settings.test_limit)
    device = next(network.parameters()).device
    judge = classifier.network.to(device)
    x = test_set.pixels(device)
    metrics = elbo_metrics(network, x, samples=settings.samples, seed=SEED)
    iwae = importance_weighted_log_likelihood(network, x, k=settings.iwae_k, seed=SEED)
    exact = _exact(network, x, settings)
    with torch.inference_mode():
        mu = torch.cat([network.encode(batch).mu for batch in x.split(2000)])
        z_prior = torch.randn(
            (len(test_set), network.latent_dim), generator=torch.Generator().manual_seed(SEED)
        ).to(device)
    test_features, test_predictions = _features(judge, x)
    reconstruction_features, reconstruction_predictions = _features(judge, _decoded(network, mu))
    prior_features, _ = _features(judge, _decoded(network, z_prior))
    data_features, _ = _features(judge, train_set.head(len(test_set)).pixels(device))
    real = GaussianStats.of(test_features)
    labels = test_set.labels.to(device)
    elbo = -metrics.neg_elbo
    return Evaluation(
        elbo=elbo,
        reconstruction_log_likelihood=-metrics.reconstruction_nll,
        kl=metrics.kl,
        kl_per_dim=metrics.kl_per_dim,
        active_units=metrics.active_units,
        iwae=iwae,
        iwae_k=settings.iwae_k,
        iwae_bits_per_dim=bits_per_dim(iwae, x.shape[1]) if network.likelihood.discrete else None,
        likelihood=network.likelihood_label,
        elbo_gap=iwae - elbo,
        exact_log_likelihood=None if exact is None else exact.log_likelihood,
        exact_gap=None if exact is None else exact.log_likelihood - exact.elbo,
        exact_iwae_part=None if exact is None else exact.iwae - exact.elbo,
        exact_images=0 if exact is None else exact.images,
        fid_prior=frechet_distance(real, GaussianStats.of(prior_features)),
        fid_reconstruction=frechet_distance(real, GaussianStats.of(reconstruction_features)),
        fid_data=frechet_distance(real, GaussianStats.of(data_features)),
        reconstruction_accuracy=float((reconstruction_predictions == labels).float().mean()),
        classifier_accuracy=float((test_predictions == labels).float().mean()),
        test_images=len(test_set),
        samples=settings.samples,
        seconds=time.perf_counter() - began,
    )


def read_cached(folder: Path, key: dict[str, Any]) -> Evaluation | None:
    """The cached evaluation of the model in `folder` if it was computed with `key`, else None."""
    path = readable_folder(folder) / EVALUATION_FILE
    try:
        data = json.loads(path.read_text())
        if data.get("key") != key:
            return None
        return Evaluation(**data["evaluation"])
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing, stale or damaged: compute it again


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
) -> Evaluation:
    """The evaluation of `network` (whose weights have the fingerprint `weights`), cached in `folder`:
    read from evaluation.json when it matches, else computed (a minute or two on a CPU) and written there
    whole."""
    key = evaluation_key(weights, classifier, test_set, settings)
    cached = None if refresh else read_cached(folder, key)
    if cached is not None:
        return cached
    readable_folder(folder).mkdir(parents=True, exist_ok=True)  # an outside model's cache folder starts empty
    # Several processes may ask at once (the workers of `serve --workers N`, a CLI beside a server): one
    # computes, the others wait and read what it wrote.
    with FileLock(readable_folder(folder) / EVALUATION_LOCK):
        cached = None if refresh else read_cached(folder, key)
        if cached is not None:
            return cached
        evaluation = evaluate_model(network, classifier, test_set, train_set, settings)
        body = json.dumps({"key": key, "evaluation": evaluation.as_dict()}, indent=2, allow_nan=False) + "\n"
        write_file_atomically(readable_folder(folder) / EVALUATION_FILE, body.encode())
    return evaluation
