"""Training jobs, kept on disk as a queue that a server runs one job at a time: a restart, or a kill,
loses nothing. A job folder under the home:

  jobs/<id>/job.json       the request and the job's state, rewritten atomically
  jobs/<id>/events.jsonl   what the job reported, one JSON object a line with its `id` (1, 2, ...),
                           appended and fsynced; a last line cut by a crash is ignored and then dropped
  jobs/<id>/model/         the checkpoint folder being trained, moved into models/ when the job is done
  jobs/next-id             the id the next job takes: ids are never reused, even of removed jobs
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model.classifier import ClassifierConfig
from model.config import ModelConfig, TrainConfig, model_config_from_dict, train_config_from_dict
from model.home import models_root
from model.records import ENDED_STATES, JobKind, JobState
from model.storage import move_into_place, recover_folder, write_file_atomically

JOB_FILE = "job.json"
EVENTS_FILE = "events.jsonl"
MODEL_FOLDER = "model"
NEXT_ID_FILE = "next-id"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """What to train: a VAE into models/<target>, or the classifier of data set <target>."""

    kind: JobKind
    target: str  # the model id, or the data set key of a classifier
    title: str
    dataset: str  # the key of a data set prepared under the home
    model_config: ModelConfig | None = None
    train_config: TrainConfig | None = None
    classifier_config: ClassifierConfig | None = None
    replace: bool = False  # a model already served under `target` is replaced when the job is done

    def __post_init__(self) -> None:
        needs = {"model": (self.model_config, self.train_config), "classifier": (self.classifier_config,)}
        if self.kind not in needs:
            raise ValueError(f"a job is a model or a classifier, got {self.kind!r}")
        if any(config is None for config in needs[self.kind]):
            raise ValueError(f"a {self.kind} job needs its configuration")

    @property
    def epochs(self) -> int:
        if self.train_config is not None:
            return self.train_config.epochs
        if self.classifier_config is not None:
            return self.classifier_config.epochs
        raise ValueError("a job without a configuration has no epochs")

    def as_dict(self) -> dict[str, Any]:
        configs = {
            "model_config": self.model_config,
            "train_config": self.train_config,
            "classifier_config": self.classifier_config,
        }
        return {
            "kind": self.kind,
            "target": self.target,
            "title": self.title,
            "dataset": self.dataset,
            "replace": self.replace,
            **{name: asdict(config) for name, config in configs.items() if config is not None},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        model = data.get("model_config")
        training = data.get("train_config")
        classifier = data.get("classifier_config")
        return cls(
            kind=data["kind"],
            target=data["target"],
            title=data["title"],
            dataset=data["dataset"],
            replace=bool(data.get("replace", False)),
            model_config=model_config_from_dict(model) if model is not None else None,
            train_config=train_config_from_dict(training) if training is not None else None,
            classifier_config=(
                ClassifierConfig(**{**classifier, "channels": tuple(classifier["channels"])})
                if classifier is not None
                else None
            ),
        )


@dataclass(frozen=True, kw_only=True)
class Job:
    id: int
    spec: JobSpec
    state: JobState = "queued"
    message: str = ""  # why it failed, or what became of a cancelled job's model
    created: str = field(default_factory=now)
    started: str | None = None
    ended: str | None = None
    cancel: dict[str, bool] | None = None  # cancelling was asked for: {"keep": the partial model?}
    epochs_completed: int = 0  # recorded when the job ends; a running job's are in its events

    @property
    def ended_state(self) -> bool:
        return self.state in ENDED_STATES

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "spec": self.spec.as_dict(),
            "state": self.state,
            "message": self.message,
            "created": self.created,
            "started": self.started,
            "ended": self.ended,
            "cancel": self.cancel,
            "epochs_completed": self.epochs_completed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=int(data["id"]),
            spec=JobSpec.from_dict(data["spec"]),
            state=data["state"],
            message=data.get("message", ""),
            created=data["created"],
            started=data.get("started"),
            ended=data.get("ended"),
            cancel=data.get("cancel"),
            epochs_completed=int(data.get("epochs_completed", 0)),
        )


class JobQueue:
    """The jobs of one home. One writer at a time per job: the server for job.json and the events that
    end a job, the job's own process for the events it reports while it runs."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home / "jobs"

    def folder(self, job_id: int) -> Path:
        return self.root / str(job_id)

    def model_folder(self, job_id: int) -> Path:
        return self.folder(job_id) / MODEL_FOLDER

    def submit(self, spec: JobSpec) -> Job:
        """A new queued job; its id is one more than any job's so far, removed ones included."""
        self.root.mkdir(parents=True, exist_ok=True)
        job_id = max(self._ids(), default=0) + 1
        with contextlib.suppress(OSError, ValueError):
            job_id = max(job_id, int((self.root / NEXT_ID_FILE).read_text()))
        while True:
            try:
                self.folder(job_id).mkdir()
                break
            except FileExistsError:  # a folder whose job.json never got written
                job_id += 1
        write_file_atomically(self.root / NEXT_ID_FILE, f"{job_id + 1}\n".encode())
        job = Job(id=job_id, spec=spec)
        self.save(job)
        return job

    def remove(self, job: Job) -> None:
        """Forget an ended job: its folder goes at once (renamed away, then deleted), its model stays."""
        if not job.ended_state:
            raise ValueError(f"job {job.id} is {job.state}: cancel it before removing it")
        gone = self.root / f".removed-{job.id}-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):  # removed by another server already
            self.folder(job.id).rename(gone)
            shutil.rmtree(gone, ignore_errors=True)

    def prune_ended(self, keep: int) -> list[int]:
        """Remove all but the newest `keep` ended jobs; -> the ids removed."""
        ended = [job for job in self.jobs() if job.ended_state]
        removed = ended[: max(len(ended) - keep, 0)]
        for job in removed:
            self.remove(job)
        return [job.id for job in removed]

    def save(self, job: Job) -> None:
        record = json.dumps(job.as_dict(), indent=2) + "\n"
        write_file_atomically(self.folder(job.id) / JOB_FILE, record.encode())

    def update(self, job: Job, **changes: Any) -> Job:
        changed = replace(job, **changes)
        self.save(changed)
        return changed

    def get(self, job_id: int) -> Job | None:
        try:
            return Job.from_dict(json.loads((self.folder(job_id) / JOB_FILE).read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _ids(self) -> list[int]:
        if not self.root.is_dir():
            return []
        return sorted(int(p.name) for p in self.root.iterdir() if p.name.isdigit())

    def jobs(self) -> list[Job]:
        """Every readable job, oldest first."""
        return [job for job in map(self.get, self._ids()) if job is not None]

    def pending(self) -> list[Job]:
        """What is left to run, in order: a job that was running when the server stopped first (it resumes
        from its last complete epoch), then the queue."""
        jobs = self.jobs()
        running = [job for job in jobs if job.state == "running"]
        return running + [job for job in jobs if job.state == "queued"]

    def pending_targets(self) -> list[str]:
        """What the pending jobs will train, in order: model ids, and data set keys for classifiers."""
        return [job.spec.target for job in self.pending()]

    def append_event(self, job_id: int, event: dict[str, Any]) -> dict[str, Any]:
        """Append `event` with the next id; returns it as written."""
        path = self.folder(job_id) / EVENTS_FILE
        events, _ = self.read_events(job_id)
        _drop_cut_line(path)
        written = {"id": len(events) + 1, **event}
        with path.open("ab") as file:
            file.write((json.dumps(written, separators=(",", ":")) + "\n").encode())
            file.flush()
            os.fsync(file.fileno())
        return written

    def read_events(self, job_id: int, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The complete events from byte `offset` on, and the offset after them."""
        try:
            with (self.folder(job_id) / EVENTS_FILE).open("rb") as file:
                file.seek(offset)
                data = file.read()
        except FileNotFoundError:
            return [], offset
        complete = data[: data.rfind(b"\n") + 1]
        return [json.loads(line) for line in complete.splitlines()], offset + len(complete)

    def epochs_reported(self, job_id: int) -> int:
        """The last epoch a job's events report."""
        events, _ = self.read_events(job_id)
        return max((event["epoch"] for event in events if event["type"] == "epoch"), default=0)

    def publish(self, job: Job) -> Path:
        """Move the job's trained model into models/, replacing one of the same id: readers see the old
        folder or the new one."""
        folder = models_root(self.home) / job.spec.target
        folder.parent.mkdir(parents=True, exist_ok=True)
        recover_folder(folder)
        move_into_place(self.model_folder(job.id), folder)
        return folder


def _drop_cut_line(path: Path) -> None:
    """Cut a last line that a crash left without its newline, so the next event starts a line of its own."""
    try:
        with path.open("rb+") as file:
            size = file.seek(0, os.SEEK_END)
            if size == 0:
                return
            file.seek(size - 1)
            if file.read(1) == b"\n":
                return
            file.seek(0)
            data = file.read()
            file.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        return
