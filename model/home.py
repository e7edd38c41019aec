"""Where data and models live: one home folder, never the repo."""

from __future__ import annotations

import os
import re
from pathlib import Path

HOME_ENV = "LATENT_ATLAS_HOME"
# Also the Train page's input pattern: browsers read it as a `v`-flag regex, where a class's '-' is escaped.
MODEL_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")


def atlas_home(override: Path | str | None = None) -> Path:
    """The home: `override`, else $LATENT_ATLAS_HOME, else ~/.cache/latent-atlas."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "latent-atlas"


def data_root(home: Path) -> Path:
    return home / "data"


def models_root(home: Path) -> Path:
    return home / "models"


def outside_root(home: Path) -> Path:
    """What is cached for models built by the user's own code (their evaluations), one folder per id."""
    return home / "outside"


def classifier_folder(home: Path, dataset_key: str) -> Path:
    """The classifier of one data set, behind its models' evaluation: beside models/, not in it, as it
    is not a VAE."""
    return home / "classifiers" / dataset_key


def check_model_id(model_id: str) -> str:
    """Model ids are folder names under the home, so they are restricted to a safe alphabet."""
    if not MODEL_ID_PATTERN.fullmatch(model_id):
        raise ValueError(f"invalid model id {model_id!r}: use 1-64 lowercase letters, digits, '-' or '_'")
    return model_id
