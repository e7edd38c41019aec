"""What a running server is configured with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.atlas import EvaluationPlan
from app.images import MAX_BODY_BYTES

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
    evaluation: EvaluationPlan = field(default_factory=EvaluationPlan)  # what /evaluation computes
