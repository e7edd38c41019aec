"""The disentanglement metrics of the literature, each written from its paper with disentanglement_lib's
choices (Locatello et al., 2019) where the paper leaves one open. Each scores a representation (a model's
posterior means) of images whose ground-truth factors are known: a `FactorSource` draws factor values and
gives the codes of the images they make.

- beta-VAE score (Higgins et al., 2017): for a random factor k, two batches of `batch` images that share
  factor k's values pairwise; the feature is the mean |code difference| over the batch; a logistic
  regression predicts k from it, scored on held-out features. Its floor is chance, 1 / K.
- FactorVAE score (Kim & Mnih, 2018): codes scaled by their standard deviation over the data; in a batch
  with factor k fixed, the dimension of least scaled variance votes for k; each dimension is then read as
  the factor it got most votes for, and the score is the share of held-out votes read right. Dimensions
  that collapsed to the prior (Cov_x(E_q[z_d]) <= 0.01, Burda et al.'s inactive units) do not vote.
- MIG (Chen et al., 2018): each code cut into 20 equal-width bins; for every factor, the gap between the
  two codes sharing most mutual information with it, over the factor's entropy, averaged over factors.
- SAP (Kumar et al., 2018): the test accuracy of a linear SVM predicting each (discrete) factor from each
  code alone; the gap between the two best codes, averaged over factors.
- DCI (Eastwood & Williams, 2018): gradient-boosted trees predict each factor from all codes; their
  feature importances R [D, K] give disentanglement sum_d rho_d (1 - H_K(R_d.)), completeness
  sum_k rho_k (1 - H_D(R_.k)) (rho: each row's or column's share of R; entropies in base K and D), and
  informativeness, the trees' test accuracy.

scikit-learn fits the predictors (logistic regression, linear SVMs, gradient-boosted trees) and scores
mutual information, as disentanglement_lib does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from model.budget import ProgressHook
from model.metrics import ACTIVE_UNIT_THRESHOLD
from model.vae import LatentModel

# scikit-learn and scipy are imported where a metric uses them: at the top they added 1.4 s to every start
# of the server (and of each process the tests start), which only a scoring needs.
if TYPE_CHECKING:
    from sklearn.svm import LinearSVC

BATCH = 64  # images per beta-VAE and FactorVAE sample (disentanglement_lib's)
BINS = 20  # MIG's equal-width bins per code (disentanglement_lib's)
CHUNK = 4096  # images whose codes are asked for at a time


class FactorSource(Protocol):
    """Ground-truth factors and the codes of the images they make."""

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        """How many values each of the K factors takes."""
        ...

    def represent(self, factors: torch.Tensor) -> torch.Tensor:
        """Factor values [n, K] (int64) -> the codes of their images [n, D]."""
        ...


def sample_factors(sizes: tuple[int, ...], n: int, generator: torch.Generator) -> torch.Tensor:
    """n factor vectors drawn uniformly from the grid of `sizes`: [n, K] int64."""
    return torch.stack([torch.randint(size, (n,), generator=generator) for size in sizes], dim=1)


def _codes(source: FactorSource, factors: torch.Tensor) -> np.ndarray:
    """The codes of factors [n, K], asked for CHUNK at a time: [n, D] float64."""
    parts = [source.represent(chunk).detach().cpu().double() for chunk in factors.split(CHUNK)]
    return torch.cat(parts).numpy()


def sample_codes(source: FactorSource, n: int, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n random images' codes [n, D] and factors [n, K]."""
    factors = sample_factors(source.factor_sizes, n, generator)
    return _codes(source, factors), factors.numpy()


def _fixed_batches(
    sizes: tuple[int, ...], points: int, batch: int, generator: torch.Generator, copies: int
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """For each of `points` samples a random factor k and `copies` batches of random factors [points, batch,
    K] in which factor k takes the first copy's values (copies 2: the beta-VAE score's pairs) or one value
    throughout (copies 1: the FactorVAE score's batch)."""
    k = torch.randint(len(sizes), (points,), generator=generator)
    batches = [
        sample_factors(sizes, points * batch, generator).reshape(points, batch, -1) for _ in range(copies)
    ]
    rows = torch.arange(points)
    if copies == 1:
        batches[0][rows, :, k] = batches[0][rows, 0, k][:, None]
    else:
        for other in batches[1:]:
            other[rows, :, k] = batches[0][rows, :, k]
    return k, batches


@dataclass(frozen=True)
class Accuracy:
    """A classifier-based score: on the samples it was fitted to, and on held-out ones (the score)."""

    train: float
    eval: float


def beta_vae_score(
    source: FactorSource,
    generator: torch.Generator,
    *,
    train: int = 10_000,
    eval: int = 5_000,
    batch: int = BATCH,
) -> Accuracy:
    """The beta-VAE score (Higgins et al., 2017, Section 4); its floor is chance, 1 / K."""

    def features(points: int) -> tuple[np.ndarray, np.ndarray]:
        k, (first, second) = _fixed_batches(source.factor_sizes, points, batch, generator, copies=2)
        a, b = (
            _codes(source, f.reshape(points * batch, -1)).reshape(points, batch, -1) for f in (first, second)
        )
        return np.abs(a - b).mean(axis=1), k.numpy()

    x_train, y_train = features(train)
    x_eval, y_eval = features(eval)
    from sklearn.linear_model import LogisticRegression

    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    model = LogisticRegression(random_state=seed, max_iter=1000).fit(x_train, y_train)
    return Accuracy(float(model.score(x_train, y_train)), float(model.score(x_eval, y_eval)))


def factor_vae_score(
    source: FactorSource,
    generator: torch.Generator,
    *,
    train: int = 10_000,
    eval: int = 5_000,
    variance_points: int = 10_000,
    batch: int = BATCH,
) -> Accuracy:
    """The FactorVAE score (Kim & Mnih, 2018, Section 4); 0 when every dimension collapsed."""
    codes, _ = sample_codes(source, variance_points, generator)
    variance = codes.var(axis=0, ddof=1)
    active = np.flatnonzero(variance > ACTIVE_UNIT_THRESHOLD)
    if not len(active):
        return Accuracy(0.0, 0.0)
    sizes = source.factor_sizes

    def votes(points: int) -> np.ndarray:
        k, (fixed,) = _fixed_batches(sizes, points, batch, generator, copies=1)
        local = (
            _codes(source, fixed.reshape(points * batch, -1)).reshape(points, batch, -1).var(axis=1, ddof=1)
        )
        least = active[(local[:, active] / variance[active]).argmin(axis=1)]
        counts = np.zeros((len(sizes), codes.shape[1]), dtype=np.int64)
        np.add.at(counts, (k.numpy(), least), 1)
        return counts

    train_votes, eval_votes = votes(train), votes(eval)
    read_as = train_votes.argmax(axis=0)  # each dimension -> the factor it voted for most
    columns = np.arange(codes.shape[1])
    return Accuracy(
        float(train_votes[read_as, columns].sum() / train_votes.sum()),
        float(eval_votes[read_as, columns].sum() / eval_votes.sum()),
    )


def _discretised(codes: np.ndarray, bins: int) -> np.ndarray:
    """Each code cut into `bins` equal-width bins over its range: [n, D] ints."""
    return np.stack(
        [np.digitize(column, np.histogram_bin_edges(column, bins)[:-1]) for column in codes.T], axis=1
    )


def mutual_information(codes: np.ndarray, factors: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The mutual information (nats) of each code, cut into `bins` bins, with each factor: [D, K]."""
    from sklearn.metrics import mutual_info_score

    cut = _discretised(codes, bins)
    return np.array([[mutual_info_score(y, c) for y in factors.T] for c in cut.T])


def factor_entropies(factors: np.ndarray) -> np.ndarray:
    """Each factor's entropy over the sample, in nats: [K]."""
    from sklearn.metrics import mutual_info_score

    return np.array([mutual_info_score(y, y) for y in factors.T])


def normalised_information(codes: np.ndarray, factors: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each code's mutual information with each factor over the factor's entropy, in [0, 1]: [D, K]."""
    information: np.ndarray = mutual_information(codes, factors, bins) / factor_entropies(factors)
    return information


def mig_of(information: np.ndarray) -> float:
    """MIG from the normalised information [D, K]: each factor's gap between its two most informative
    codes, averaged."""
    top_two = np.sort(information, axis=0)[::-1][:2]
    return float(np.mean(top_two[0] - top_two[1]))


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = BINS) -> float:
    """The mutual information gap (Chen et al., 2018, Eq. 6)."""
    return mig_of(normalised_information(codes, factors, bins))


def _predictor_scores(
    codes: np.ndarray,
    factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
    fit: Callable[[np.ndarray, np.ndarray], object],
) -> np.ndarray:
    """The test accuracy of `fit` predicting each factor from each code alone: [D, K]."""
    scores = np.zeros((codes.shape[1], factors.shape[1]))
    for d in range(codes.shape[1]):
        for k in range(factors.shape[1]):
            if len(np.unique(factors[:, k])) < 2:
                continue  # a factor the sample holds fixed cannot be predicted, nor scored
            model = fit(codes[:, d : d + 1], factors[:, k])
            scores[d, k] = np.mean(model.predict(test_codes[:, d : d + 1]) == test_factors[:, k])  # type: ignore[attr-defined]
    return scores


def sap(codes: np.ndarray, factors: np.ndarray, test_codes: np.ndarray, test_factors: np.ndarray) -> float:
    """The SAP score (Kumar et al., 2018, Section 3) for discrete factors: linear SVMs (C = 0.01, classes
    balanced, as disentanglement_lib's) on one code each. One-vs-rest thresholds on a single code cannot
    pick out a factor's middle values, so even a code equal to its factor scores well under 1 when the
    factor takes many values (0.24 on factors of 3 to 10 values)."""

    from sklearn.svm import LinearSVC

    def fit(x: np.ndarray, y: np.ndarray) -> LinearSVC:
        return LinearSVC(C=0.01, class_weight="balanced").fit(x, y)

    scores = _predictor_scores(codes, factors, test_codes, test_factors, fit)
    top_two = np.sort(scores, axis=0)[::-1][:2]
    return float(np.mean(top_two[0] - top_two[1]))


@dataclass(frozen=True)
class Dci:
    """Disentanglement, completeness and informativeness (test accuracy), each in [0, 1], and the
    importance matrix [D][K] they come from."""

    disentanglement: float
    completeness: float
    informativeness: float
    importance: list[list[float]]


def _weighted_one_minus_entropy(slices: np.ndarray) -> float:
    """sum_i rho_i (1 - H(slices_i)) over the rows of a non-negative matrix, rho_i the row's share of the
    total (equal shares when it is all 0), each entropy in base of the row's length."""
    from scipy.stats import entropy

    per_slice = 1.0 - entropy(slices.T + 1e-11, base=slices.shape[1])
    total = slices.sum()
    weights = slices.sum(axis=1) / total if total > 0 else np.full(len(slices), 1 / len(slices))
    return float(np.sum(per_slice * weights))


def disentanglement_of(importance: np.ndarray) -> float:
    """DCI's disentanglement of an importance matrix [D, K]: how few factors each code reads."""
    return _weighted_one_minus_entropy(importance)


def completeness_of(importance: np.ndarray) -> float:
    """DCI's completeness of an importance matrix [D, K]: how few codes each factor is read from."""
    return _weighted_one_minus_entropy(importance.T)


def dci(
    codes: np.ndarray, factors: np.ndarray, test_codes: np.ndarray, test_factors: np.ndarray, seed: int = 0
) -> Dci:
    """DCI (Eastwood & Williams, 2018) with scikit-learn's gradient-boosted trees, one per factor."""
    from sklearn.ensemble import GradientBoostingClassifier

    importance = np.zeros((codes.shape[1], factors.shape[1]))
    accuracies = []
    for k in range(factors.shape[1]):
        trees = GradientBoostingClassifier(random_state=seed).fit(codes, factors[:, k])
        importance[:, k] = np.abs(trees.feature_importances_)
        accuracies.append(np.mean(trees.predict(test_codes) == test_factors[:, k]))
    return Dci(
        disentanglement=disentanglement_of(importance),
        completeness=completeness_of(importance),
        informativeness=float(np.mean(accuracies)),
        importance=importance.tolist(),
    )


@dataclass(frozen=True)
class EncodedFactors:
    """A network's representation of a factor grid: the posterior means of the images of given factors."""

    network: LatentModel
    images_of: Callable[[torch.Tensor], torch.Tensor]  # factors [n, K] -> images [n, C, H, W] uint8
    factor_sizes: tuple[int, ...]

    @torch.inference_mode()
    def represent(self, factors: torch.Tensor) -> torch.Tensor:
        device = next(self.network.parameters()).device
        x = self.images_of(factors).flatten(start_dim=1).to(device, torch.float32).div_(255.0)
        return self.network.encode(x).mu.cpu()


@dataclass(frozen=True, kw_only=True)
class DisentanglementSettings:
    """How many samples each metric takes (disentanglement_lib's counts by default) and the seed."""

    points: int = 10_000  # the predictors' training samples, and MIG's and the variances' points
    eval_points: int = 5_000  # their held-out samples
    batch: int = BATCH
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("points", "eval_points", "batch"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be >= 2, got {getattr(self, name)}")


# Every score's name -> its title and what it measures, in the order the pages show them (Scores.figures).
METRICS: dict[str, tuple[str, str]] = {
    "mig": ("MIG", "the gap in mutual information between the two codes that carry most of each factor"),
    "factor_vae_score": ("FactorVAE score", "a factor held fixed is read off the code of least variance"),
    "beta_vae_score": ("beta-VAE score", "which factor is held fixed, from the codes' mean differences"),
    "sap": ("SAP", "the gap between the two codes that predict each factor best, alone and linearly"),
    "dci_disentanglement": ("DCI disentanglement", "how few factors each code is used to predict"),
    "dci_completeness": ("DCI completeness", "how few codes each factor is predicted from"),
    "dci_informativeness": ("DCI informativeness", "how well the codes together predict the factors"),
}


@dataclass(frozen=True)
class Scores:
    """Every metric of one representation, and its normalised mutual information [D][K] with the factors."""

    beta_vae: float
    factor_vae: float
    mig: float
    sap: float
    dci: Dci
    information: list[list[float]]

    def figures(self) -> dict[str, float]:
        """Every score by name (METRICS' names), as the command line, the benchmark and the lab show them."""
        return {
            "mig": self.mig,
            "factor_vae_score": self.factor_vae,
            "beta_vae_score": self.beta_vae,
            "sap": self.sap,
            "dci_disentanglement": self.dci.disentanglement,
            "dci_completeness": self.dci.completeness,
            "dci_informativeness": self.dci.informativeness,
        }


# Each metric's share of the time scores_of takes (measured on sprites with a 10-D MLP, 1,000 points): the
# batch scores draw and encode 64 images a sample, DCI fits a forest a factor.
_STAGES = {"beta-VAE score": 0.5, "FactorVAE score": 0.26, "MIG and SAP": 0.01, "DCI": 0.23}


def scores_of(
    source: FactorSource, settings: DisentanglementSettings, progress: ProgressHook | None = None
) -> Scores:
    """All the metrics of `source`, seeded; `progress` hears each stage as it starts (and may stop the
    work by raising)."""
    done = 0.0

    def stage(name: str) -> None:
        nonlocal done
        if progress is not None:
            progress(name, done)
        done += _STAGES[name]

    generator = torch.Generator().manual_seed(settings.seed)
    sizes = {"train": settings.points, "eval": settings.eval_points, "batch": settings.batch}
    stage("beta-VAE score")
    beta = beta_vae_score(source, generator, **sizes)
    stage("FactorVAE score")
    factor = factor_vae_score(source, generator, variance_points=settings.points, **sizes)
    stage("MIG and SAP")
    codes, factors = sample_codes(source, settings.points, generator)
    test_codes, test_factors = sample_codes(source, settings.eval_points, generator)
    information = normalised_information(codes, factors)
    separated = sap(codes, factors, test_codes, test_factors)
    stage("DCI")
    return Scores(
        beta_vae=beta.eval,
        factor_vae=factor.eval,
        mig=mig_of(information),
        sap=separated,
        dci=dci(codes, factors, test_codes, test_factors, seed=settings.seed),
        information=information.tolist(),
    )
