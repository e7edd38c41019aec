"""Independent trainings side by side: a pool of worker processes, each holding the data set once and
training one model at a time on a device of its own (its own GPU when there are several; a share of the
CPU's threads otherwise). Small models use two CPU threads poorly, so two processes of one thread each
train two models in less time than one process trains them in turn."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

from model.data import Dataset
from model.device import resolve_device

Item = TypeVar("Item")
Result = TypeVar("Result")
Task = Callable[[Dataset, str, Item], Result]  # (data set, the worker's device, item) -> result


@dataclass(frozen=True)
class Outcome(Generic[Item, Result]):
    """What became of one item: its result, or the error that ended it."""

    item: Item
    result: Result | None = None
    error: BaseException | None = None


def worker_devices(workers: int, device: str) -> list[str]:
    """The device of each worker: GPU i % count for worker i when `device` asks for CUDA (or auto finds it)
    and there are several GPUs; `device` itself for every worker otherwise."""
    if device in ("auto", "cuda") and resolve_device(device).type == "cuda" and torch.cuda.device_count() > 1:
        return [f"cuda:{index % torch.cuda.device_count()}" for index in range(workers)]
    return [device] * workers


def threads_per_worker(workers: int) -> int:
    """The CPU's cores shared out between the workers, at least one each."""
    return max(1, (os.cpu_count() or 1) // workers)


_dataset: Dataset | None = None
_device = "auto"


def _start_worker(dataset: Dataset, devices: multiprocessing.Queue[str], threads: int) -> None:
    global _dataset, _device
    torch.set_num_threads(threads)
    _dataset, _device = dataset, devices.get()


def _run(task: Task[Item, Result], item: Item) -> Result:
    if _dataset is None:
        raise RuntimeError("a worker ran a task before it was started")
    return task(_dataset, _device, item)


def side_by_side(
    task: Task[Item, Result], items: Sequence[Item], dataset: Dataset, *, workers: int, device: str = "auto"
) -> Iterator[Outcome[Item, Result]]:
    """task(dataset, device, item) for every item, `workers` at a time in spawned processes (`task` must be
    a module-level function, the items started in their order); -> each item's outcome as it finishes. An
    item that fails ends only itself: the others run on."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    workers = min(workers, len(items)) or 1
    # spawn, not fork: a forked child of a process that has used OpenMP threads can hang in its first op.
    context = multiprocessing.get_context("spawn")
    devices: multiprocessing.Queue[str] = context.Queue()
    for name in worker_devices(workers, device):
        devices.put(name)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(dataset, devices, threads_per_worker(workers)),
    ) as pool:
        futures = {pool.submit(_run, task, item): item for item in items}
        for future in as_completed(futures):
            error = future.exception()
            item = futures[future]
            yield Outcome(item, error=error) if error else Outcome(item, result=future.result())
