"""Where a computation the server runs in the background stands (a plane, per-point metrics): the record
its progress calls write and its status endpoint reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

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
