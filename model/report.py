"""A model's full evaluation: the ELBO and its parts, the importance-weighted log-likelihood and the gap
between them, KL per dimension, and the classifier-judged quality scores (FID-MNIST of prior samples and
of reconstructions, reconstruction accuracy). Computed once and cached beside the model as
evaluation.json, keyed by everything that changes the numbers."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from model.checkpoint import WEIGHTS_FILE
from model.classifier import ClassifierInfo, DigitClassifier
from model.data import Digits
from model.evaluation import evaluate, importance_weighted_log_likelihood
from model.frechet import GaussianStats, frechet_distance
from model.storage import readable_folder
from model.vae import VAE

EVALUATION_FILE = "evaluation.json"
DEFAULT_IWAE_K = 500  # Burda et al. (2016) report log p(x) with k = 5000; 500 is within ~0.1 nats here
DEFAULT_SAMPLES = 10  # z draws per digit behind E_q[log p(x|z)]


@dataclass(frozen=True)
class Evaluation:
    """Test-set figures in nats per digit (log-likelihood scale: higher is better) and FID-MNIST."""

    elbo: float  # E_q[log p(x|z)] - KL(q(z|x) || p(z))
    reconstruction_log_likelihood: float  # E_q[log p(x|z)]
    kl: float
    kl_per_dim: list[float]
    active_units: int
    iwae: float  # the k-sample importance-weighted bound: an estimate of log p(x)
    iwae_k: int
    elbo_gap: float  # iwae - elbo: the estimated KL(q(z|x) || p(z|x)) (tutorial Eq. 10)
    fid_prior: float  # test digits vs decoded prior samples
    fid_reconstruction: float  # test digits vs their reconstructions
    fid_data: float  # test digits vs as many training digits: the floor real digits reach
    reconstruction_accuracy: float  # the classifier's accuracy on reconstructions
    classifier_accuracy: float  # ... and on the test digits themselves
    test_digits: int
    samples: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _file_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def evaluation_key(
    folder: Path, classifier: ClassifierInfo, test_digits: int, *, iwae_k: int, samples: int
) -> dict[str, Any]:
    """What a cached evaluation must match to be reused: the weights, the judge and the settings."""
    return {
        "weights": _file_fingerprint(readable_folder(folder) / WEIGHTS_FILE),
        "classifier": classifier.fingerprint,
        "test_digits": test_digits,
        "iwae_k": iwae_k,
        "samples": samples,
    }


@torch.inference_mode()
def _features(classifier: DigitClassifier, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x: [N, 784] -> (penultimate features [N, 128], predicted labels [N])."""
    features = torch.cat([classifier.features(batch) for batch in x.split(2000)])
    return features, classifier.head(features).argmax(dim=1)


@torch.inference_mode()
def _decoded(vae: VAE, z: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.sigmoid(vae.decode(batch)) for batch in z.split(2000)])


def evaluate_model(
    vae: VAE,
    classifier: DigitClassifier,
    classifier_info: ClassifierInfo,
    test_digits: Digits,
    train_digits: Digits,
    *,
    iwae_k: int = DEFAULT_IWAE_K,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> Evaluation:
    """Every figure of the lab's evaluation table for `vae` on `test_digits` (seeded)."""
    began = time.perf_counter()
    device = next(vae.parameters()).device
    classifier = classifier.to(device)
    x = test_digits.pixels(device)
    metrics = evaluate(vae, x, samples=samples, seed=seed)
    iwae = importance_weighted_log_likelihood(vae, x, k=iwae_k, seed=seed)
    with torch.inference_mode():
        mu = torch.cat([vae.encode(batch).mu for batch in x.split(2000)])
        z_prior = torch.randn(
            (len(test_digits), vae.latent_dim), generator=torch.Generator().manual_seed(seed)
        ).to(device)
    test_features, test_predictions = _features(classifier, x)
    reconstruction_features, reconstruction_predictions = _features(classifier, _decoded(vae, mu))
    prior_features, _ = _features(classifier, _decoded(vae, z_prior))
    data_features, _ = _features(classifier, train_digits.head(len(test_digits)).pixels(device))
    real = GaussianStats.of(test_features)
    labels = test_digits.labels.to(device)
    elbo = -metrics.neg_elbo
    return Evaluation(
        elbo=elbo,
        reconstruction_log_likelihood=-metrics.reconstruction_nll,
        kl=metrics.kl,
        kl_per_dim=metrics.kl_per_dim,
        active_units=metrics.active_units,
        iwae=iwae,
        iwae_k=iwae_k,
        elbo_gap=iwae - elbo,
        fid_prior=frechet_distance(real, GaussianStats.of(prior_features)),
        fid_reconstruction=frechet_distance(real, GaussianStats.of(reconstruction_features)),
        fid_data=frechet_distance(real, GaussianStats.of(data_features)),
        reconstruction_accuracy=float((reconstruction_predictions == labels).float().mean()),
        classifier_accuracy=float((test_predictions == labels).float().mean()),
        test_digits=len(test_digits),
        samples=samples,
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


def write_cached(folder: Path, key: dict[str, Any], evaluation: Evaluation) -> None:
    """Write evaluation.json into the model folder atomically (temp file, then rename)."""
    body = json.dumps({"key": key, "evaluation": evaluation.as_dict()}, indent=2, allow_nan=False) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{EVALUATION_FILE}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, folder / EVALUATION_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cached_evaluation(
    folder: Path,
    vae: VAE,
    classifier: DigitClassifier,
    classifier_info: ClassifierInfo,
    test_digits: Digits,
    train_digits: Digits,
    *,
    iwae_k: int = DEFAULT_IWAE_K,
    samples: int = DEFAULT_SAMPLES,
    refresh: bool = False,
) -> Evaluation:
    """The evaluation of the model saved in `folder` (whose weights `vae` holds): read from
    evaluation.json when it matches, else computed (a minute or two on a CPU) and written there."""
    key = evaluation_key(folder, classifier_info, len(test_digits), iwae_k=iwae_k, samples=samples)
    cached = None if refresh else read_cached(folder, key)
    if cached is not None:
        return cached
    evaluation = evaluate_model(
        vae, classifier, classifier_info, test_digits, train_digits, iwae_k=iwae_k, samples=samples
    )
    write_cached(readable_folder(folder), key, evaluation)
    return evaluation
