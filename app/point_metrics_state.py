"""The served models' per-point metrics: which splits' are computed, computing (with progress) or failed,
the background computation each starts (a thread: torch's kernels let the server go on), and an uploaded
image's log p(x) placed among the test images'."""

from __future__ import annotations

from collections.abc import Callable

import torch
from fastapi import HTTPException
from filelock import FileLock
from starlette.concurrency import run_in_threadpool

from app.background import ABSENT, READY, BackgroundStatus, Computations
from app.served_model import ServedModel
from model.budget import EvaluationStopped
from model.data import MapSplit, Split, evaluated_split
from model.point_metrics import (
    POINT_METRIC_K,
    MetricsKey,
    percentile,
    point_metrics,
    read_metrics,
    split_metrics,
)
from model.point_metrics import write_metrics as cache_metrics

Metrics = dict[str, torch.Tensor]


def _splits(split: MapSplit) -> tuple[Split, ...]:
    return ("test", "train") if split == "all" else (split,)


class PointMetrics:
    """Per-point metrics of every served model's splits, each computed once and kept."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str, Split], Metrics] = {}
        self._computing = Computations()
        self._closing = False

    @staticmethod
    def key(served: ServedModel, split: Split) -> MetricsKey:
        checkpoint = served.loaded.checkpoint
        binarized = checkpoint is not None and checkpoint.train_config.binarized
        return MetricsKey(
            served.loaded.weights, served.dataset.info.key, split, served.size_of(split), binarized
        )

    def _cached(self, served: ServedModel, split: Split) -> Metrics | None:
        name = (served.model_id, served.loaded.weights, split)
        if name not in self._values:
            found = read_metrics(served.loaded.folder, self.key(served, split))
            if found is None:
                return None
            self._values[name] = found
        return self._values[name]

    async def status(self, served: ServedModel, split: MapSplit) -> BackgroundStatus:
        """The split's status; metrics another server process cached are read (and are then ready)."""
        running = self._computing.running.get((served.model_id, served.loaded.weights, split))
        if running is not None:
            return running
        cached = [await run_in_threadpool(self._cached, served, part) for part in _splits(split)]
        return READY if all(values is not None for values in cached) else ABSENT

    async def start(self, served: ServedModel, split: MapSplit) -> BackgroundStatus:
        """Compute the split's metrics in the background unless they are computed or computing."""
        status = await self.status(served, split)
        if status.state in ("ready", "computing"):
            return status

        async def compute(status: BackgroundStatus) -> None:
            await run_in_threadpool(self._compute_splits, served, split, status)

        name = (served.model_id, served.loaded.weights, split)
        title = f"{served.model_id}'s per-point metrics"
        return self._computing.start(name, compute, stage="starting", title=title)

    def _compute_splits(self, served: ServedModel, split: MapSplit, status: BackgroundStatus) -> None:
        parts = _splits(split)
        sizes = {part: served.size_of(part) for part in parts}
        total, before = sum(sizes.values()), 0
        for part in parts:
            if self._cached(served, part) is not None:
                before += sizes[part]
                continue
            noun = "test" if part == "test" else "training"

            def report(done: int, before: int = before, noun: str = noun) -> None:  # on this thread
                if self._closing:
                    raise EvaluationStopped("the server is stopping")
                status.report(f"{noun} images: {before + done:,} of {total:,}", (before + done) / total)

            key = self.key(served, part)
            path = key.path(served.loaded.folder)
            path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(path.with_name(f".{path.name}.lock")):  # one server process computes them
                values = read_metrics(served.loaded.folder, key) or self._measure(served, part, report)
            self._values[(served.model_id, served.loaded.weights, part)] = values
            before += sizes[part]

    def _measure(self, served: ServedModel, split: Split, report: Callable[[int], None]) -> Metrics:
        checkpoint = served.loaded.checkpoint
        images = evaluated_split(served.dataset.split(split), checkpoint.train_config if checkpoint else None)
        values = split_metrics(served.loaded.network, images, on_batch=report)
        cache_metrics(served.loaded.folder, self.key(served, split), values)
        return values

    def values(self, served: ServedModel, split: MapSplit) -> Metrics:
        """The split's metrics (the test images' first for "all"), or the 409 saying how to compute them."""
        status = self._computing.running.get((served.model_id, served.loaded.weights, split))
        if status is not None and status.state == "failed":
            raise HTTPException(409, f"{served.model_id}'s per-point metrics failed: {status.error}")
        found = [self._cached(served, part) for part in _splits(split)]
        if any(values is None for values in found):
            where = f"/api/models/{served.model_id}/point-metrics?split={split}"
            raise HTTPException(
                409, f"{served.model_id}'s per-point metrics are not computed yet: POST {where} starts them"
            )
        present = [values for values in found if values is not None]
        return {name: torch.cat([values[name] for values in present]) for name in present[0]}

    def typicality(self, served: ServedModel, image: torch.Tensor) -> tuple[float, float] | None:
        """An image's log p(x) (as the test images' is estimated) and its percentile among the test
        images'; None until the test images' metrics are computed."""
        test = self._cached(served, "test")
        if test is None:
            return None
        network = served.loaded.network
        x = image.reshape(1, -1).to(next(network.parameters()).device)
        log_px = float(point_metrics(network, x, k=POINT_METRIC_K)["log_px"][0])
        return log_px, percentile(test["log_px"], log_px)

    def close(self) -> None:
        """Stop every computation at its next batch (the server is stopping)."""
        self._closing = True
