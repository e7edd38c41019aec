"""Computations the server runs in the background (a plane, per-point metrics): where each stands (the
record its progress calls write and its status endpoint reads), each started once, a failure kept."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal

from model.budget import EvaluationStopped

log = logging.getLogger("latent_atlas")
ComputationState = Literal["absent", "computing", "ready", "failed"]


@dataclass
class BackgroundStatus:
    """A computation's state, the stage and fraction done while it runs, and why it failed."""

    state: ComputationState
    stage: str = ""
    fraction: float = 0.0
    error: str | None = None
    started: float = field(default_factory=time.monotonic)

    def report(self, stage: str, fraction: float) -> None:
        self.stage, self.fraction = stage, fraction

    @property
    def seconds(self) -> float:
        """Since it started computing (0 when it did not)."""
        return round(time.monotonic() - self.started, 1) if self.state == "computing" else 0.0


READY = BackgroundStatus("ready", fraction=1.0)
ABSENT = BackgroundStatus("absent")


class Computations:
    """Background computations by name, each started once: the status of those running or failed (a
    finished one is forgotten: its result is kept by its owner), and the tasks, held until they end."""

    def __init__(self) -> None:
        self.running: dict[Hashable, BackgroundStatus] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self, name: Hashable, work: Callable[[BackgroundStatus], Awaitable[None]], *, stage: str, title: str
    ) -> BackgroundStatus:
        """Run `work(status)` in the background; a failure marks the status failed with its message (and
        logs `title`, what it was computing)."""
        status = self.running[name] = BackgroundStatus("computing", stage=stage)

        async def run() -> None:
            try:
                await work(status)
                del self.running[name]
            except Exception as error:  # said on the page; the server and the other computations go on
                if not isinstance(error, EvaluationStopped):  # stopped with the server: nothing failed
                    log.exception("could not compute %s", title)
                status.state, status.error = "failed", str(error)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return status
