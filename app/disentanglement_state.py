"""The served models' disentanglement scores: which are computed, computing (with progress) or failed, and
the background computation each starts, one model at a time (the scores of a sweep's nine models queue
rather than share two cores nine ways)."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from app.background import ABSENT, READY, BackgroundStatus, Computations
from app.served_model import ServedModel
from model.budget import EvaluationStopped
from model.disentanglement import DisentanglementSettings, Scores
from model.factor_scores import cached_scores, draws_factors, read_scores, scores_key


def require_factors(served: ServedModel) -> None:
    """The 409 for a model whose data set has no factors that images can be drawn at."""
    if not draws_factors(served.dataset.info):
        raise HTTPException(
            409,
            f"{served.model_id} was trained on {served.dataset.info.title}, whose factors of variation are "
            "not known: the disentanglement scores need a set of known factors (sprites)",
        )


class DisentanglementScores:
    """Every served model's scores, each computed once (cached beside the model) and kept."""

    def __init__(self, settings: DisentanglementSettings) -> None:
        self.settings = settings
        self._values: dict[tuple[str, str], Scores] = {}  # (model id, weights) -> scores
        self._computing = Computations()
        self._one_at_a_time = asyncio.Semaphore(1)
        self._closing = False

    @staticmethod
    def _name(served: ServedModel) -> tuple[str, str]:
        return served.model_id, served.loaded.weights

    def _cached(self, served: ServedModel) -> Scores | None:
        name = self._name(served)
        if name not in self._values:
            key = scores_key(served.loaded.weights, served.dataset.info, self.settings)
            found = read_scores(served.loaded.folder, key)
            if found is None:
                return None
            self._values[name] = found
        return self._values[name]

    async def scores(self, served: ServedModel) -> Scores | None:
        """The model's scores if computed (by this server or another process), else None."""
        return await run_in_threadpool(self._cached, served)

    async def status(self, served: ServedModel) -> BackgroundStatus:
        """Computing (how far), failed (why), ready or absent."""
        running = self._computing.running.get(self._name(served))
        if running is not None:
            return running
        return READY if await self.scores(served) is not None else ABSENT

    async def start(self, served: ServedModel) -> BackgroundStatus:
        """Score the model in the background unless it is scored or being scored."""
        require_factors(served)
        status = await self.status(served)
        if status.state in ("ready", "computing"):
            return status

        async def compute(status: BackgroundStatus) -> None:
            async with self._one_at_a_time:
                await run_in_threadpool(self._compute, served, status)

        title = f"{served.model_id}'s disentanglement scores"
        return self._computing.start(
            self._name(served), compute, stage="waiting for the models scored before it", title=title
        )

    def _compute(self, served: ServedModel, status: BackgroundStatus) -> None:
        def report(stage: str, fraction: float) -> None:  # between the metrics, on this thread
            if self._closing:
                raise EvaluationStopped("the server is stopping")
            status.report(stage, fraction)

        loaded = served.loaded
        self._values[self._name(served)] = cached_scores(
            loaded.folder,
            loaded.network,
            served.dataset.info,
            self.settings,
            weights=loaded.weights,
            progress=report,
        )

    def close(self) -> None:
        """Stop every computation at its next metric (the server is stopping)."""
        self._closing = True
