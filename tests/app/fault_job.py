"""A job process with a fault injected, named by $LATENT_ATLAS_FAULT: `nan` (the loss turns NaN), `disk`
(saving a checkpoint finds the disk full) or `crash` (the process dies by SIGKILL in its first epoch).
Started by the server in place of `python -m model.job_process` (Settings.job_process in the tests)."""

from __future__ import annotations

import errno
import os
import signal
import sys
from dataclasses import replace
from typing import Any

import model.train
from model import job_process

FAULT_ENV = "LATENT_ATLAS_FAULT"
real_objective = model.train.objective


def nan_objective(*args: Any, **kwargs: Any) -> Any:
    parts = real_objective(*args, **kwargs)
    return replace(parts, loss=parts.loss * float("nan"))


def full_disk(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "model.safetensors")


def crash(*args: Any, **kwargs: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    fault = os.environ[FAULT_ENV]
    patches = {
        "nan": ("objective", nan_objective),
        "disk": ("save_checkpoint", full_disk),
        "crash": ("objective", crash),
    }
    name, replacement = patches[fault]
    setattr(model.train, name, replacement)
    sys.exit(job_process.main())
