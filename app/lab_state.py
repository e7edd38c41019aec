"""The lab's state: the classifier behind the evaluation, how evaluations are computed, and what has been
computed (evaluations, estimator variances), with the one computation per model that concurrent requests
share."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.sse import format_sse_event
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from app.registry import ModelRegistry
from app.schemas.lab import EvaluationProgressEvent
from app.served_model import ServedModel
from model.budget import EvaluationStopped
from model.classifier import LoadedClassifier, is_trained, load_classifier
from model.data import DatasetInfo, ImageSet, evaluated_split
from model.datasets import DATASET_NAMES
from model.estimators import compare_estimators
from model.evaluation import Evaluation, EvaluationSettings, cached_evaluation, evaluation_key, read_cached
from model.home import classifier_folder
from model.inference import CheckpointError

log = logging.getLogger("latent_atlas")
PROGRESS_SECONDS = 0.5  # between two progress events of a running evaluation
ESTIMATOR_DIGITS = 4  # the first test images: a fixed batch, so results are comparable across models
ESTIMATOR_REPETITIONS = 20  # independent S-sample estimates behind each variance

Variances = dict[str, list[float]]  # reparam, score, reparam_encoder, score_encoder -> per S


class NoClassifier(HTTPException):
    """The lab's classifier-judged figures were asked for, and the model's data set has no classifier: a
    503 that says how to get one, or a 409 when the data set has no labels to train one on."""

    def __init__(self, dataset: DatasetInfo) -> None:
        if not dataset.labelled:
            super().__init__(
                409, f"{dataset.title} has no labels, so there is no classifier to judge its images with"
            )
            return
        zoo = dataset.key if dataset.key in DATASET_NAMES else "folder:PATH"
        super().__init__(
            503,
            f"no classifier is trained for {dataset.title} yet: it trains after the data set's default "
            f"models (about 30 s), queued by `latent-atlas serve`, POST /api/jobs/zoo or "
            f"`latent-atlas train --zoo {zoo}`, and is used as soon as it is done",
        )


@dataclass(frozen=True)
class EvaluationProgress:
    """Where a running evaluation stands: its stage and the fraction of the whole done."""

    stage: str
    fraction: float


class LabState:
    def __init__(
        self,
        registry: ModelRegistry,
        classifiers: dict[str, LoadedClassifier],
        settings: EvaluationSettings,
        problems: dict[str, str] | None = None,
    ) -> None:
        self.registry = registry
        self.classifiers = classifiers  # by data set key
        self.problems = problems or {}  # data set key -> why its classifier could not be loaded
        self.settings = settings
        self.evaluations: dict[str, Evaluation] = {}
        self._computing: dict[str, asyncio.Future[Evaluation]] = {}
        self.progress: dict[str, EvaluationProgress] = {}  # of the evaluations running
        self._cancelled: set[str] = set()  # evaluations asked to stop
        self._closing = False  # the server is stopping: every evaluation stops
        self._estimators: dict[tuple[str, tuple[int, ...]], Variances] = {}

    @classmethod
    def load(cls, home: Path, registry: ModelRegistry, settings: EvaluationSettings) -> LabState:
        """The lab over `registry`, with the classifier of each served data set that has one trained."""
        classifiers: dict[str, LoadedClassifier] = {}
        problems: dict[str, str] = {}
        for key in registry.datasets:
            folder = classifier_folder(home, key)
            if not is_trained(folder):
                continue
            try:
                classifiers[key] = load_classifier(folder, registry.device)
            except CheckpointError as error:
                log.warning("no classifier for %s: %s", key, error)
                problems[key] = str(error)
        return cls(registry, classifiers, settings, problems)

    def add_classifier(self, key: str, classifier: LoadedClassifier) -> None:
        """Judge data set `key`'s models with a newly trained classifier."""
        self.classifiers[key] = classifier
        self.problems.pop(key, None)

    def forget(self, model_id: str) -> None:
        """Drop what was computed for a model that is being replaced."""
        self.evaluations.pop(model_id, None)
        self._estimators = {key: known for key, known in self._estimators.items() if key[0] != model_id}

    def require_classifier(self, served: ServedModel) -> LoadedClassifier:
        """The classifier of the model's data set, or the NoClassifier error saying why there is none."""
        classifier = self.classifiers.get(served.dataset.info.key)
        if classifier is None:
            raise NoClassifier(served.dataset.info)
        return classifier

    def _read_cached(self, served: ServedModel, classifier: LoadedClassifier) -> Evaluation | None:
        key = evaluation_key(served.loaded.weights, classifier, _evaluated(served), self.settings)
        return read_cached(served.loaded.folder, key)

    def _compute(self, served: ServedModel, classifier: LoadedClassifier) -> Evaluation:
        loaded, data, model_id = served.loaded, served.dataset, served.model_id

        def report(stage: str, fraction: float) -> None:  # between batches, on the computing thread
            if self._closing or model_id in self._cancelled:
                raise EvaluationStopped(model_id)
            self.progress[model_id] = EvaluationProgress(stage, fraction)

        try:
            return cached_evaluation(
                loaded.folder,
                loaded.network,
                classifier,
                _evaluated(served),
                data.train,
                self.settings,
                weights=loaded.weights,
                progress=report,
            )
        finally:
            self.progress.pop(model_id, None)

    def running(self, model_id: str) -> bool:
        """Whether the model's evaluation is being computed."""
        return model_id in self._computing

    def cancel(self, model_id: str) -> bool:
        """Ask the model's running evaluation to stop at its next batch; False when none is running."""
        if not self.running(model_id):
            return False
        self._cancelled.add(model_id)
        return True

    def close(self) -> None:
        """The server is stopping: every running evaluation stops at its next batch."""
        self._closing = True

    async def progress_events(self, model_id: str) -> AsyncIterator[bytes]:
        """The model's evaluation's progress as Server-Sent Events: a `progress` event every
        PROGRESS_SECONDS while it runs, then `ended` (fraction 1 once the model has an evaluation)."""
        while self.running(model_id):
            progress = self.progress.get(model_id)
            if progress is not None:
                body = EvaluationProgressEvent(
                    type="progress", stage=progress.stage, fraction=progress.fraction
                )
                yield format_sse_event(data_str=body.model_dump_json(), event="progress")
            await asyncio.sleep(PROGRESS_SECONDS)
        done = 1.0 if model_id in self.evaluations else None
        ended = EvaluationProgressEvent(type="ended", stage=None, fraction=done)
        yield format_sse_event(data_str=ended.model_dump_json(), event="ended")

    async def evaluated(self, served: ServedModel) -> Evaluation | None:
        """The model's evaluation if it has been computed, else None (also when there is no classifier)."""
        return await self.evaluation(served, compute=False)

    async def evaluation(self, served: ServedModel, *, compute: bool) -> Evaluation | None:
        """The model's evaluation: remembered, else read from its evaluation.json, else (with `compute`)
        computed off the event loop, one computation shared by every request that waits for it."""
        model_id = served.model_id
        known = self.evaluations.get(model_id)
        if known is not None:
            return known
        if not compute:
            # Nothing to read without a classifier: not evaluated, as far as a page asking need know (asked
            # to compute, it hears why there is none).
            classifier = self.classifiers.get(served.dataset.info.key)
            if classifier is None:
                return None
            cached = await run_in_threadpool(self._read_cached, served, classifier)
            if cached is not None:
                self.evaluations[model_id] = cached
            return cached
        classifier = self.require_classifier(served)
        computation = self._computing.get(model_id)
        if computation is None:
            self._cancelled.discard(model_id)  # a stop asked of an earlier computation is not this one's
            computation = asyncio.ensure_future(run_in_threadpool(self._compute, served, classifier))
            self._computing[model_id] = computation
        try:
            # shield: a client that leaves does not cancel the work the others are waiting for
            result = self.evaluations[model_id] = await asyncio.shield(computation)
            return result
        except EvaluationStopped as stopped:
            why = "the server is stopping" if self._closing else "it was cancelled"
            raise HTTPException(409, f"the evaluation of {model_id} stopped: {why}") from stopped
        finally:
            if computation.done() and self._computing.get(model_id) is computation:
                del self._computing[model_id]  # done (or failed: the next request tries again)

    def _measure(self, served: ServedModel, counts: tuple[int, ...]) -> Variances:
        x = served.dataset.test.head(ESTIMATOR_DIGITS).pixels(served.loaded.device)
        result = compare_estimators(served.loaded.network, x, counts, repetitions=ESTIMATOR_REPETITIONS)
        variances = {name: [stats.variance for stats in result[name]] for name in ("reparam", "score")}
        for name in ("reparam", "score"):
            variances[f"{name}_encoder"] = [stats.encoder_variance for stats in result[name]]
        return variances

    async def estimator_variances(self, served: ServedModel, counts: tuple[int, ...]) -> Variances:
        """Variances of both gradient estimators at each sample count, measured once (seconds of work,
        off the event loop so hover decoding keeps flowing meanwhile)."""
        key = (served.model_id, counts)
        known = self._estimators.get(key)
        if known is None:
            known = self._estimators[key] = await run_in_threadpool(self._measure, served, counts)
        return known


def _evaluated(served: ServedModel) -> ImageSet:
    """The test images the model is evaluated on: binarized if it was trained on binarized data."""
    checkpoint = served.loaded.checkpoint
    return evaluated_split(served.dataset.test, checkpoint.train_config if checkpoint else None)
