"""The lab's evaluation: FID-MNIST, reconstruction accuracy, IWAE beside the ELBO, and its cache."""

import math
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from model import budget, evaluation
from model.checkpoint import load_network, weights_fingerprint
from model.classifier import Classifier, LoadedClassifier, load_classifier
from model.data import ImageSet
from model.evaluation import (
    EVALUATION_FILE,
    FIGURE_ROWS,
    Evaluation,
    EvaluationSettings,
    cached_evaluation,
    evaluate_model,
)
from model.frechet import GaussianStats, frechet_distance
from model.home import classifier_folder, models_root
from model.metrics import elbo_metrics
from model.posterior import exact_posterior

SLICE = 1000


@pytest.fixture(scope="module")
def classifier(quick_zoo: Path) -> LoadedClassifier:
    return load_classifier(classifier_folder(quick_zoo, "mnist"))


def _features(classifier: Classifier, x: torch.Tensor) -> GaussianStats:
    with torch.inference_mode():
        return GaussianStats.of(classifier.features(x))


def test_fid_of_real_digits_is_far_below_that_of_kl_only_samples(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet
) -> None:
    real = _features(classifier.network, test_set.head(SLICE).pixels())
    train = _features(classifier.network, train_set.head(SLICE).pixels())
    _, kl_only = load_network(models_root(quick_zoo) / "kl-2d")
    with torch.inference_mode():
        _, samples = kl_only.sample(SLICE, torch.Generator().manual_seed(0))
    prior = _features(classifier.network, samples)
    assert frechet_distance(real, train) < 0.1 * frechet_distance(real, prior)


def test_evaluation_separates_the_full_elbo_model_from_the_kl_only_one(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet
) -> None:
    results = {}
    settings = EvaluationSettings(iwae_k=50, samples=2, test_limit=500, exact_limit=2)
    for model_id in ("full-2d", "kl-2d"):
        _, network = load_network(models_root(quick_zoo) / model_id)
        results[model_id] = evaluate_model(network, classifier, test_set, train_set, settings)
    full, kl_only = results["full-2d"], results["kl-2d"]
    for result in (full, kl_only):
        assert result.iwae >= result.elbo - 0.5  # the IWAE bound is at least the ELBO (up to noise)
        assert result.elbo_gap == pytest.approx(result.iwae - result.elbo)
        assert result.classifier_accuracy > 0.9 and result.fid_data < result.fid_prior
    # KL-only decodes every digit to the same average: its reconstructions keep a digit by chance only.
    assert full.reconstruction_accuracy > 2 * kl_only.reconstruction_accuracy
    assert kl_only.reconstruction_accuracy < 0.2
    assert full.fid_prior < kl_only.fid_prior and full.fid_reconstruction < kl_only.fid_reconstruction
    assert full.active_units == 2 and kl_only.active_units == 0


def test_a_2d_model_s_evaluation_measures_the_exact_gap(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet
) -> None:
    """Over the first digits: ELBO <= IWAE <= exact log p(x), each digit's log p(x) as the quadrature finds
    it; a model beyond two dimensions has no exact figures (and the table no such rows)."""
    settings = EvaluationSettings(iwae_k=50, samples=20, test_limit=200, exact_limit=6)
    _, network = load_network(models_root(quick_zoo) / "full-2d")
    result = evaluate_model(network, classifier, test_set, train_set, settings)
    x = test_set.head(6).pixels()
    exact = [exact_posterior(network, image).log_evidence for image in x]
    assert result.exact_images == 6
    assert result.exact_log_likelihood == pytest.approx(sum(exact) / 6, abs=1e-6)
    elbo = -elbo_metrics(network, x, samples=20, seed=evaluation.SEED).neg_elbo
    assert result.exact_gap == pytest.approx(result.exact_log_likelihood - elbo, abs=1e-6)
    # IWAE recovers part of the gap, never more (up to its sampling noise on six digits)
    assert 0 < result.exact_iwae_part <= result.exact_gap + 0.5
    _, wide = load_network(models_root(quick_zoo) / "full-16d")
    beyond = evaluate_model(wide, classifier, test_set, train_set, replace(settings, test_limit=50))
    assert beyond.exact_images == 0 and beyond.exact_log_likelihood is None and beyond.exact_gap is None
    assert not any(row.applies_to(beyond) for row in FIGURE_ROWS if row.key.startswith("exact"))


QUICK_SETTINGS = EvaluationSettings(iwae_k=10, samples=1, test_limit=200, exact_limit=2)


@pytest.fixture
def full_2d_copy(quick_zoo: Path, tmp_path: Path) -> Path:
    """A copy of the quick zoo's full-2d folder, to cache evaluations in."""
    return Path(shutil.copytree(models_root(quick_zoo) / "full-2d", tmp_path / "full-2d"))


def test_evaluation_is_cached_beside_the_model_until_its_inputs_change(
    full_2d_copy: Path,
    classifier: LoadedClassifier,
    train_set: ImageSet,
    test_set: ImageSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = full_2d_copy
    _, network = load_network(folder)
    settings = QUICK_SETTINGS
    weights = weights_fingerprint(folder)
    first = cached_evaluation(folder, network, classifier, test_set, train_set, settings, weights=weights)
    assert (folder / EVALUATION_FILE).is_file()
    assert not list(folder.glob(".*.tmp"))  # written through a temp file, then renamed

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("recomputed a cached evaluation")

    monkeypatch.setattr(evaluation, "evaluate_model", refuse)
    assert (
        cached_evaluation(folder, network, classifier, test_set, train_set, settings, weights=weights)
        == first
    )
    with pytest.raises(AssertionError, match="recomputed"):  # another k is another evaluation
        other_k = replace(settings, iwae_k=20)
        cached_evaluation(folder, network, classifier, test_set, train_set, other_k, weights=weights)
    (folder / EVALUATION_FILE).write_text("{truncated")
    with pytest.raises(AssertionError, match="recomputed"):  # a damaged cache is recomputed, not trusted
        cached_evaluation(folder, network, classifier, test_set, train_set, settings, weights=weights)
    with pytest.raises(AssertionError, match="recomputed"):  # other weights are another evaluation
        cached_evaluation(folder, network, classifier, test_set, train_set, settings, weights="retrained")
    assert math.isfinite(first.fid_prior) and first.test_images == 200


def test_an_evaluation_asked_for_at_once_is_computed_once(
    full_2d_copy: Path,
    classifier: LoadedClassifier,
    train_set: ImageSet,
    test_set: ImageSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As by two workers of `serve --workers 2`: the second waits for the first's evaluation.json."""
    _, network = load_network(full_2d_copy)
    weights = weights_fingerprint(full_2d_copy)
    computed = []
    compute = evaluation.evaluate_model

    def slowly(*args: Any, **kwargs: Any) -> Evaluation:
        computed.append(threading.get_ident())
        time.sleep(0.5)  # long enough that the other request comes while this one computes
        return compute(*args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_model", slowly)

    def ask(_: int) -> Evaluation:
        return cached_evaluation(
            full_2d_copy, network, classifier, test_set, train_set, QUICK_SETTINGS, weights=weights
        )

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(ask, range(2))
    assert len(computed) == 1 and first == second


def test_the_standard_errors_are_the_spread_the_figures_have_between_samples(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet
) -> None:
    """The ELBO's standard error over 1,000 images is about the spread of the ELBO of ten disjoint slices
    of 100 divided by sqrt(10); the accuracy's is sqrt(p (1 - p) / N) (scipy's sem for the ELBO's values)."""
    _, network = load_network(models_root(quick_zoo) / "full-2d")
    settings = EvaluationSettings(iwae_k=5, samples=1, test_limit=1000, exact_limit=2)
    result = evaluate_model(network, classifier, test_set, train_set, settings)
    x = test_set.head(1000).pixels()
    slices = torch.tensor([-elbo_metrics(network, part, seed=1).neg_elbo for part in x.split(100)])
    assert result.elbo_se is not None and result.iwae_se is not None
    assert result.elbo_se == pytest.approx(float(slices.std()) / math.sqrt(10), rel=0.5)
    p = result.reconstruction_accuracy
    assert result.reconstruction_accuracy_se == pytest.approx(math.sqrt(p * (1 - p) / 1000))
    assert 0 < result.iwae_se < 2 * result.elbo_se
    row = next(row for row in FIGURE_ROWS if row.key == "elbo")
    assert row.shown(result) == f"{result.elbo:.2f} ± {result.elbo_se:.2f}"


def test_a_budget_takes_the_images_the_model_decodes_in_that_time(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet
) -> None:
    assert budget.affordable_images(rate=10_000, decodes_per_image=100, seconds=60, available=10_000) == 6000
    assert budget.affordable_images(rate=10_000, decodes_per_image=100, seconds=1, available=10_000) == 500
    assert budget.affordable_images(rate=10_000, decodes_per_image=100, seconds=60, available=300) == 300
    _, network = load_network(models_root(quick_zoo) / "full-16d")
    tight = EvaluationSettings(iwae_k=5, samples=1, exact_limit=2, budget_seconds=1e-3)
    assert evaluate_model(network, classifier, test_set, train_set, tight).test_images == budget.MIN_IMAGES


def test_progress_goes_through_the_stages_and_a_raise_stops_the_evaluation(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet, tmp_path: Path
) -> None:
    _, network = load_network(models_root(quick_zoo) / "full-2d")
    settings = EvaluationSettings(iwae_k=5, samples=1, test_limit=300, exact_limit=2)
    heard: list[tuple[str, float]] = []
    evaluate_model(network, classifier, test_set, train_set, settings, lambda *point: heard.append(point))
    stages = [stage for stage, _ in heard]
    assert sorted(set(stages), key=stages.index) == ["ELBO", "IWAE bound", "exact log p(x)", "FID"]
    fractions = [fraction for _, fraction in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] < 1

    def stop(stage: str, fraction: float) -> None:
        if stage == "IWAE bound" and fraction > 0:
            raise budget.EvaluationStopped("asked")

    folder = tmp_path / "model"
    with pytest.raises(budget.EvaluationStopped):
        cached_evaluation(
            folder, network, classifier, test_set, train_set, settings, weights="w", progress=stop
        )
    assert not (folder / EVALUATION_FILE).exists()  # nothing of a stopped evaluation is kept


def test_aggregate_posterior_samples_avoid_the_prior_s_holes(
    quick_zoo: Path, classifier: LoadedClassifier, train_set: ImageSet, test_set: ImageSet
) -> None:
    """A reconstruction-only model's prior samples fall in its holes and its aggregate posterior's do not;
    a KL-only model's aggregate posterior is its prior, so the two sets score alike."""
    settings = EvaluationSettings(iwae_k=5, samples=1, test_limit=500, exact_limit=1)
    scores = {}
    for model_id in ("recon-2d", "kl-2d"):
        _, network = load_network(models_root(quick_zoo) / model_id)
        scores[model_id] = evaluate_model(network, classifier, test_set, train_set, settings)
    recon_only, kl_only = scores["recon-2d"], scores["kl-2d"]
    assert recon_only.fid_aggregate < 0.75 * recon_only.fid_prior  # 287 against 498 on the quick zoo
    # Its posteriors are narrow: a draw decodes about as a training image's reconstruction does.
    assert recon_only.fid_aggregate < 1.2 * recon_only.fid_reconstruction
    assert kl_only.fid_aggregate == pytest.approx(kl_only.fid_prior, rel=0.05)  # 917 and 916
