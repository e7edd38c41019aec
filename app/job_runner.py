"""The server's side of training jobs: it runs the home's queue (model.job_queue) one job at a time in a
process of its own (model.job_process), publishes and hot-loads what finishes, and wakes the event streams.

The job process reports each epoch to the job's folder and says so on stdout; everything that ends a job
(its state in job.json and the final event) is written here, after the model is served, so a page that
hears "done" finds the model in /api/models. The process lives while the queue has jobs: a crash ends
the job it ran, and the next job starts a new process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from starlette.concurrency import run_in_threadpool

from app.job_events import EventStreams
from app.lab_state import LabState
from app.limits import MAX_POINTS
from app.registry import ModelRegistry
from app.responses import map_body
from model.classifier import load_classifier
from model.home import classifier_folder, data_root, models_root
from model.job_queue import Job, JobQueue, JobSpec, now
from model.records import JobState

log = logging.getLogger("latent_atlas")
STOP_GRACE_SECONDS = 10.0  # a stopped job finishes its current step, then exits; after this it is killed
BUSY_RETRY_SECONDS = 2.0  # another server runs this home's queue: look again after this
KEPT_MESSAGE = "cancelled; the partial model is served"
MAX_PENDING = 16  # queued and running jobs together
MAX_ENDED_JOBS = 50  # the newest ended jobs kept in the list; older ones are removed as others end
FOLLOW_SECONDS = 1.0  # with other workers on the home: how often to look for the jobs they end or cancel


@dataclass(frozen=True, kw_only=True)
class JobProcess:
    """How the job process is started: the command before its arguments, its torch threads and niceness."""

    command: tuple[str, ...] = (sys.executable, "-m", "model.job_process")
    threads: int | None = None
    nice: int = 10  # below the server: a hover decode takes the CPU from training, never the reverse


class _Worker:
    """The job process: it trains the jobs sent to it, one at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.errors: deque[str] = deque(maxlen=5)  # its last stderr lines, the message of a crash
        self._reading = asyncio.create_task(_collect(process.stderr, self.errors))

    @classmethod
    async def start(cls, home: Path, settings: JobProcess) -> _Worker:
        command = [*settings.command, "--home", str(home), "--parent", str(os.getpid())]
        command += ["--nice", str(settings.nice)]
        if settings.threads:
            command += ["--threads", str(settings.threads)]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def send(self, job_id: int) -> bool:
        """Hand the process job `job_id`; False when it can take nothing (its pipe is closed)."""
        stdin = self.process.stdin
        if stdin is None or not self.alive:
            return False
        self.errors.clear()
        try:
            stdin.write(f"run {job_id}\n".encode())
            await stdin.drain()
        except (ConnectionError, RuntimeError):  # asyncio and uvloop say "closed" differently
            return False
        return True

    async def outcome(self, on_event: Callable[[], Awaitable[None]]) -> dict[str, Any] | None:
        """Await `on_event` at each event the job reports; -> its outcome, or None when the process died
        first."""
        stdout = self.process.stdout
        if stdout is None:
            return None
        while line := await stdout.readline():
            if line.startswith(b"outcome "):
                outcome: dict[str, Any] = json.loads(line.removeprefix(b"outcome "))
                return outcome
            await on_event()
        return None

    def stop_job(self) -> None:
        """Ask the running job to stop after its current step (SIGTERM)."""
        if self.alive:
            self.process.terminate()

    def crash_message(self) -> str:
        code = self.process.returncode
        why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        said = f": {' '.join(self.errors)[-400:]}" if self.errors else ""
        return f"the training process ended with {why}{said}"

    async def close(self) -> None:
        """End the process: it exits when its stdin closes, or is killed after a grace period."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self._reading


class JobRunner:
    """The home's queue as one server process sees it. With `follow` (other workers of `serve --workers`
    share the home), it also serves what the jobs the others ran have published, and stops a job it runs
    when another worker asked to cancel it."""

    def __init__(
        self,
        home: Path,
        registry: ModelRegistry,
        lab: LabState,
        process: JobProcess | None = None,
        *,
        follow: bool = False,
    ) -> None:
        self.queue = JobQueue(home)
        self.follow = follow
        self._ended = {job.id for job in self.queue.jobs() if job.ended_state}  # served at start-up
        self.home = home
        self.registry = registry
        self.lab = lab
        self.process = process or JobProcess()
        self.changed = asyncio.Condition()  # notified whenever a job reports or changes state
        self.streams = EventStreams(self.queue, self.changed)
        self._wake = asyncio.Event()
        self._worker: _Worker | None = None
        self._running: int | None = None  # the id of the job the worker trains
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        # One runner per home: a second server on the same home leaves the queue to the first.
        self._lock = FileLock(str(self.queue.root / ".runner.lock"))

    def training(self) -> list[str]:
        """What this server trains now or next: the pending jobs' targets, none if it runs no queue."""
        return self.queue.pending_targets() if self._task is not None or self.follow else []

    def start(self) -> None:
        self.queue.root.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._run_queue())

    async def close(self) -> None:
        """Stop the running job's process; the job stays running on disk and resumes on the next start."""
        self._closing = True
        if self._task is not None:  # first: the queue must start nothing more
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._worker is not None:
            self._worker.stop_job()
            await self._worker.close()
            self._worker = None

    def check_room(self, wanted: int) -> None:
        """ValueError saying so when `wanted` more jobs would overfill the queue."""
        pending = len(self.queue.pending())
        if pending + wanted > MAX_PENDING:
            raise ValueError(
                f"the queue is full ({pending} jobs waiting or running, at most {MAX_PENDING}): "
                "cancel one or wait for one to finish"
            )

    def submit(self, spec: JobSpec) -> Job:
        job = self.queue.submit(spec)
        self._wake.set()
        return job

    async def cancel(self, job: Job, *, keep: bool) -> Job:
        """Cancel a queued job at once; ask a running one to stop after its current step (it ends
        cancelled, its partial model kept if `keep` and it completed an epoch)."""
        if job.state == "queued":
            return await self._end(job, "cancelled", {"kept": False})
        job = self.queue.update(job, cancel={"keep": keep})
        if self._worker is not None and self._running == job.id:
            self._worker.stop_job()
        return job

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _run_queue(self) -> None:
        while not self._closing:
            if self.follow:
                await self._serve_what_others_ended()
            pending = self.queue.pending()
            if not pending:
                if self._worker is not None:  # an idle process would hold torch and the data in memory
                    await self._worker.close()
                    self._worker = None
                    continue  # a job may have come while it closed
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), FOLLOW_SECONDS if self.follow else None)
                continue
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                await asyncio.sleep(FOLLOW_SECONDS if self.follow else BUSY_RETRY_SECONDS)
                if self.follow:  # another worker's job reports to its folder: the streams here read it
                    await self.notify()
                continue
            try:
                pending = self.queue.pending()  # again, under the lock: the runner before may have ended it
                if not pending:
                    continue
                await self._run(pending[0])
            except Exception:  # the queue must outlive any one job's trouble
                log.exception("job %s could not be run", pending[0].id)
                await self._end(
                    pending[0],
                    "failed",
                    {"message": "the server could not run it (see its log)"},
                )
            finally:
                self._lock.release()

    async def _run(self, job: Job) -> None:
        if job.cancel is not None:  # cancelled while the server was down
            await self._finish(job, {"outcome": "stopped"})
            return
        job = self.queue.update(job, state="running", started=job.started or now())
        await self.notify()
        if self._worker is None or not self._worker.alive:
            self._worker = await _Worker.start(self.home, self.process)
        worker = self._worker
        self._running = job.id
        if (self.queue.get(job.id) or job).cancel is not None:  # cancelled while its process started
            worker.stop_job()
        watching = asyncio.create_task(self._watch_cancel(job.id, worker)) if self.follow else None
        try:
            outcome = await worker.outcome(self.notify) if await worker.send(job.id) else None
        finally:
            self._running = None
            if watching is not None:
                watching.cancel()
        if self._closing:
            return
        if outcome is None:  # it died before it could say why: its last words are the message
            await worker.close()
            self._worker = None
            outcome = {"outcome": "failed", "message": worker.crash_message()}
        await self._finish(self.queue.get(job.id) or job, outcome)

    async def _watch_cancel(self, job_id: int, worker: _Worker) -> None:
        """Stop the job when another worker asked to cancel it (its request is in job.json)."""
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            job = self.queue.get(job_id)
            if job is not None and job.cancel is not None:
                worker.stop_job()
                return

    async def _serve_what_others_ended(self) -> None:
        """Serve the models and classifiers that jobs run by other workers published since the last look."""
        for job in self.queue.jobs():
            if not job.ended_state or job.id in self._ended:
                continue
            self._ended.add(job.id)
            if job.state == "done" or job.message == KEPT_MESSAGE:
                try:
                    await self._load(job)
                except Exception:  # a model another worker served but this one cannot: it says why
                    log.exception("job %s: published by another worker, not served here", job.id)
            await self.notify()

    async def _finish(self, job: Job, outcome: dict[str, Any]) -> None:
        kind = outcome["outcome"]
        if kind == "trained":
            try:
                await self._serve(job)
            except Exception as error:  # a model that trained but cannot be served fails its job alone
                log.exception("job %s: trained but not served", job.id)
                await self._end(job, "failed", {"message": f"trained, but it cannot be served: {error}"})
                return
            await self._end(job, "done", {})
            return
        if job.cancel is not None:
            completed = int(outcome.get("epochs_completed", 0))
            kept = job.cancel.get("keep", False) and job.spec.kind == "model" and completed >= 1
            if kept:
                await self._serve(job)
            await self._end(job, "cancelled", {"kept": kept, "epochs_completed": completed})
            return
        message = outcome.get("message") or "the job stopped before it was done"
        await self._end(job, "failed", {"message": message})

    async def _serve(self, job: Job) -> None:
        """Publish a job's result and serve it without a restart."""
        if job.spec.kind == "model":
            await run_in_threadpool(self.queue.publish, job)
        await self._load(job)

    async def _load(self, job: Job) -> None:
        """Serve a job's published model (or classifier), replacing what was served under its id."""
        spec = job.spec
        if spec.kind == "classifier":
            folder = classifier_folder(self.home, spec.target)
            classifier = await run_in_threadpool(load_classifier, folder, self.registry.device)
            self.lab.add_classifier(spec.target, classifier)
            return
        folder = models_root(self.home) / spec.target
        served, dataset = await run_in_threadpool(self.registry.build, folder, data_root(self.home))
        await run_in_threadpool(
            map_body, served, "test", MAX_POINTS
        )  # the page's first map request is then instant
        self.lab.forget(served.model_id)
        self.registry.add(served, dataset)

    async def _end(self, job: Job, state: JobState, detail: dict[str, Any]) -> Job:
        message = detail.get("message", "")
        if state == "cancelled":
            message = KEPT_MESSAGE if detail.get("kept") else "cancelled"
        completed = job.spec.epochs if state == "done" else self.queue.epochs_reported(job.id)
        self._ended.add(job.id)
        ended = self.queue.update(job, state=state, ended=now(), message=message, epochs_completed=completed)
        self.queue.append_event(job.id, {"type": state, **detail, "message": message})
        # What is left of the model being trained: nothing once published, else a partial model not kept.
        await run_in_threadpool(shutil.rmtree, self.queue.model_folder(job.id), True)
        await run_in_threadpool(self.queue.prune_ended, MAX_ENDED_JOBS)
        await self.notify()
        return ended


async def _collect(stream: asyncio.StreamReader | None, lines: deque[str]) -> None:
    """Keep the last lines of a job's stderr (read, so a chatty job never blocks on a full pipe)."""
    if stream is None:
        return
    async for line in stream:
        text = line.decode(errors="replace").strip()
        if text:
            lines.append(text)
