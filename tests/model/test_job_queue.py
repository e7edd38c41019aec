"""The job queue on disk, the job process's map plane, and training's stop and divergence checks."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

import model.train
from model.checkpoint import load_history, load_info
from model.classifier import ClassifierConfig
from model.config import ModelConfig, TrainConfig
from model.data import Dataset
from model.job_process import snapshot_xy
from model.job_queue import EVENTS_FILE, JobQueue, JobSpec
from model.objectives import ObjectiveParts, objective
from model.train import TrainingStopped, train
from tests.conftest import TINY_MODEL, TINY_TRAINING, train_tiny

SPEC = JobSpec(
    kind="model",
    target="tiny",
    title="Tiny",
    dataset="mnist",
    model_config=ModelConfig(latent_dim=3, hidden=(16,)),
    train_config=TrainConfig(epochs=4, loss="beta", beta=0.5, train_limit=300),
)


def test_a_job_survives_a_round_trip_through_its_folder(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    classifier = JobSpec(
        kind="classifier", target="mnist", title="c", dataset="mnist", classifier_config=ClassifierConfig()
    )
    first, second = queue.submit(SPEC), queue.submit(classifier)
    assert (first.id, second.id) == (1, 2)
    assert queue.get(1) == first and queue.get(2) == second
    running = queue.update(second, state="running")
    assert [job.id for job in queue.pending()] == [2, 1]  # the interrupted job first, then the queue
    queue.update(running, state="done")
    assert [job.id for job in queue.pending()] == [1]


def test_a_spec_without_its_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="a model job needs its configuration"):
        JobSpec(kind="model", target="x", title="x", dataset="mnist")


def test_an_event_line_cut_by_a_crash_is_ignored_then_dropped(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    job = queue.submit(SPEC)
    queue.append_event(job.id, {"type": "started"})
    with (queue.folder(job.id) / EVENTS_FILE).open("ab") as file:
        file.write(b'{"id":2,"type":"ep')  # the process died mid-write
    events, offset = queue.read_events(job.id)
    assert [e["id"] for e in events] == [1]
    queue.append_event(job.id, {"type": "epoch", "epoch": 1})
    events, _ = queue.read_events(job.id)
    assert [(e["id"], e["type"]) for e in events] == [(1, "started"), (2, "epoch")]
    later, _ = queue.read_events(job.id, offset)  # a reader that had the first resumes after it
    assert [e["id"] for e in later] == [2]
    assert queue.epochs_reported(job.id) == 1


def test_the_snapshot_plane_keeps_its_axes_from_epoch_to_epoch() -> None:
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(200, 5, generator=generator) * torch.tensor([5.0, 3.0, 1.0, 0.5, 0.1])
    first = snapshot_xy(mu, None)
    # PCA's axes have no sign of their own: whichever the next epoch's fit picks, each axis is drawn the
    # way the previous epoch's was, so the animation never jumps to a mirror image.
    assert torch.allclose(snapshot_xy(-mu, first), first, atol=1e-4)
    nudged = mu + 0.01 * torch.randn(200, 5, generator=generator)
    assert (snapshot_xy(nudged, first) - first).abs().max() < 0.1
    two_d = torch.randn(50, 2, generator=generator)
    assert torch.equal(snapshot_xy(two_d, None), two_d)  # 2-D latents are their own map


def test_a_stop_asked_between_steps_keeps_the_last_complete_epoch(tmp_path: Path, mnist: Dataset) -> None:
    folder = tmp_path / "stopped"
    steps = {"taken": 0}

    def stop_in_the_second_epoch() -> bool:
        steps["taken"] += 1
        return steps["taken"] > 25  # 2,000 digits in batches of 100: 20 steps an epoch

    with pytest.raises(TrainingStopped, match="stopped after 1 complete epoch"):
        train(
            folder,
            model_id="stopped",
            title="stopped",
            model_config=TINY_MODEL,
            config=replace(TINY_TRAINING, epochs=3),
            dataset=mnist,
            progress=False,
            should_stop=stop_in_the_second_epoch,
        )
    assert load_info(folder).epochs_completed == 1
    assert [record["epoch"] for record in load_history(folder)] == [1]


def test_a_diverging_loss_fails_the_epoch_before_it_is_saved(
    tmp_path: Path, mnist: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    def diverging(*args: Any, **kwargs: Any) -> ObjectiveParts:
        parts = objective(*args, **kwargs)
        return dataclasses.replace(parts, loss=parts.loss * float("nan"))

    monkeypatch.setattr(model.train, "objective", diverging)
    folder = tmp_path / "diverged"
    with pytest.raises(ValueError, match="the loss became nan in epoch 1; the weights diverged"):
        train_tiny(folder, mnist)
    assert not folder.exists()  # nothing of the diverged epoch is saved


def test_ended_jobs_are_removed_oldest_first_and_ids_are_never_reused(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    jobs = [queue.submit(SPEC) for _ in range(5)]
    with pytest.raises(ValueError, match="job 5 is queued: cancel it before removing it"):
        queue.remove(jobs[4])
    for job in jobs:
        queue.update(job, state="done")
    assert queue.prune_ended(keep=3) == [1, 2]
    assert [job.id for job in queue.jobs()] == [3, 4, 5]
    queue.remove(queue.get(5))  # type: ignore[arg-type]  # the newest: its id must not come back
    assert [job.id for job in queue.jobs()] == [3, 4]
    assert JobQueue(tmp_path).submit(SPEC).id == 6
    assert sorted(p.name for p in queue.root.iterdir()) == ["3", "4", "6", "next-id"]  # nothing half-removed
