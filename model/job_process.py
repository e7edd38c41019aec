"""Training jobs in a process of their own: `python -m model.job_process --home H` reads `run N` lines on
stdin and trains job N of the home's queue for each, one at a time, until stdin closes. A crash, a NaN
loss or a full disk here ends the job, never the server that started the process. The process outlives
one job so that the next skips importing torch and loading its data set again.

A job reports to its folder's events (model.job_queue) and tells the server to read them with an `event`
line on stdout; its last line is `outcome {json}`: trained, stopped (SIGTERM, or the server gone) or
failed with the message. SIGTERM stops the job after its current step; the last complete epoch stays
saved, so the job can resume or its partial model be kept.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from model.checkpoint import load_info
from model.classifier import train_classifier
from model.data import Dataset, load_prepared
from model.home import classifier_folder, data_root
from model.job_queue import Job, JobQueue
from model.latent_map import MapPlane
from model.records import EpochRecord
from model.train import TrainingStopped, snapshot_indices, train

COORDINATE_DECIMALS = 3  # the map's points, as the page draws them


class _StopFlag:
    """Set by SIGTERM, or when the server that started the job is gone (its child then has a new parent)."""

    def __init__(self, parent: int | None) -> None:
        self.parent = parent
        self.requested = False

    def __call__(self) -> bool:
        return self.requested or (self.parent is not None and os.getppid() != self.parent)


def snapshot_xy(mu: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
    """An epoch's snapshot latent means [K, D] on a plane [K, 2]: the latents themselves in 2-D, else their
    first two principal components, each axis's sign chosen to agree with the previous epoch's, so the
    animation shows the map changing rather than the axes flipping."""
    xy = MapPlane.fit(mu).project(mu)
    if previous is not None and mu.shape[1] > 2:
        agree = (xy * previous).sum(dim=0)
        xy = xy * torch.where(agree < 0, -1.0, 1.0)
    return xy


def _report(queue: JobQueue, job: Job, event: dict[str, Any]) -> None:
    queue.append_event(job.id, event)
    print("event", flush=True)


def _train_model(queue: JobQueue, job: Job, dataset: Dataset, stop: _StopFlag) -> None:
    spec = job.spec
    model_config, config = spec.model_config, spec.train_config
    if model_config is None or config is None:
        raise ValueError(f"job {job.id} has no model configuration")
    folder = queue.model_folder(job.id)
    test_size = len(dataset.test.head(config.test_limit))
    indices = snapshot_indices(test_size, config.snapshot_size)
    completed = load_info(folder).epochs_completed if folder.exists() else 0
    _report(
        queue,
        job,
        {
            "type": "started",
            "epochs": config.epochs,
            "epochs_completed": completed,
            "latent_dim": model_config.latent_dim,
            "class_names": list(dataset.info.class_names),
            "index": indices.tolist(),
            "label": dataset.test.labels[indices].tolist(),
        },
    )
    previous: list[torch.Tensor] = []

    def on_epoch(record: EpochRecord, mu: torch.Tensor) -> None:
        xy = snapshot_xy(mu, previous[-1] if previous else None)
        previous[:] = [xy]
        rounded = xy.round(decimals=COORDINATE_DECIMALS)
        _report(
            queue,
            job,
            {
                "type": "epoch",
                "at": time.time(),  # when the epoch ended (Unix seconds): how late its event arrives
                "epochs": config.epochs,
                **record,
                "x": rounded[:, 0].tolist(),
                "y": rounded[:, 1].tolist(),
            },
        )

    train(
        folder,
        model_id=spec.target,
        title=spec.title,
        model_config=model_config,
        config=config,
        dataset=dataset,
        resume=True,
        progress=False,
        on_epoch=on_epoch,
        should_stop=stop,
    )


def run_job(home: Path, job_id: int, stop: _StopFlag, datasets: dict[str, Dataset]) -> dict[str, Any]:
    """Train job `job_id` of `home` (resuming what an earlier run of it saved); -> the outcome. `datasets`
    keeps the data sets loaded for the jobs after it."""
    queue = JobQueue(home)
    job = queue.get(job_id)
    if job is None:
        return {"outcome": "failed", "message": f"job {job_id} has no readable job.json"}
    try:
        key = job.spec.dataset
        dataset = datasets.get(key) or datasets.setdefault(key, load_prepared(data_root(home), key))
        if job.spec.kind == "classifier":
            if job.spec.classifier_config is None:
                raise ValueError(f"job {job_id} has no classifier configuration")
            _report(queue, job, {"type": "started", "epochs": job.spec.epochs, "epochs_completed": 0})
            train_classifier(
                classifier_folder(home, job.spec.target),
                job.spec.classifier_config,
                dataset,
                progress=False,
                should_stop=stop,
            )
        else:
            _train_model(queue, job, dataset, stop)
    except TrainingStopped as stopped:
        return {"outcome": "stopped", "epochs_completed": stopped.epochs_completed}
    except Exception as error:  # any failure is this job's alone: its message goes to the page
        return {"outcome": "failed", "message": _describe(error)}
    return {"outcome": "trained"}


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{where}; the last complete epoch is kept"
    return str(error) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.job_process", description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--parent", type=int, help="stop when this process (the server) is gone")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority by N")
    args = parser.parse_args(argv)
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    if args.threads:
        torch.set_num_threads(args.threads)
    stop = _StopFlag(args.parent)

    def request_stop(_signal: int, _frame: object) -> None:
        stop.requested = True

    signal.signal(signal.SIGTERM, request_stop)
    datasets: dict[str, Dataset] = {}
    for line in sys.stdin:
        command, _, job_id = line.partition(" ")
        if command != "run" or not job_id.strip().isdigit():
            print("outcome " + json.dumps({"outcome": "failed", "message": f"not a command: {line!r}"}))
            continue
        stop.requested = False  # a stop asked for between jobs was for the one before
        outcome = run_job(args.home, int(job_id), stop, datasets)
        print("outcome " + json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
