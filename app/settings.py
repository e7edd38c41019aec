"""What a running server is configured with. Plain values: building settings imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.limits import MAX_BODY_BYTES, MAX_POINTS

if TYPE_CHECKING:
    from app.job_runner import JobProcess
    from model.disentanglement import DisentanglementSettings
    from model.evaluation import EvaluationSettings
    from model.factories import OutsideModel

DEFAULT_HOST = "127.0.0.1"  # local only; binding wider is an explicit choice (--host)
DEFAULT_PORT = 8000
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path  # holds data/ and models/
    device: str = "auto"
    max_body_bytes: int = MAX_BODY_BYTES
    # Host headers served (DNS rebinding guard); "*" allows any, for a container behind its own proxy.
    allowed_hosts: tuple[str, ...] = LOCAL_HOSTS
    evaluation: EvaluationSettings | None = None  # how the lab's evaluations compute (None: the defaults)
    disentanglement: DisentanglementSettings | None = None  # the lab's disentanglement scores' samples
    # Whether visitors may queue and cancel training jobs (the server trains its own missing models anyway).
    # Off unless asked for: `serve` turns it on when bound to loopback, or with --allow-training.
    training: bool = False
    job_process: JobProcess | None = None  # how a job's process starts (None: the defaults)
    # Whether this server runs the home's training jobs (off with serve --no-training: nothing trains, and
    # jobs already queued wait for a server that runs them).
    run_queue: bool = True
    # Models the user's own code built (serve --model, explore()), served beside the home's.
    outside: tuple[OutsideModel, ...] = ()
    # Server processes on this home (`serve --workers N`): above 1, each follows the jobs the others run.
    workers: int = 1
    home_models: bool = True  # False: serve the outside models only (explore() shows the user's model)
    # explore(): the explorer tells this server what it shows and rings what the notebook highlights.
    linked_view: bool = False
    # A map of more points than this is drawn as density tiles, and as points where a view holds few
    # (the most a map response holds point by point: the page stays fast and small below it).
    density_from: int = MAX_POINTS
    # Which pages may show this server's pages in a frame: none, but a notebook's for explore().
    frame_ancestors: str = "'none'"
