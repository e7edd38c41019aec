"""Trained fixtures made once. What a fixture trains (or fetches) is kept under the user's cache directory,
keyed by a hash of everything that decides it: the sources it runs (model/, and examples/ for the example
models), the fixture's own settings, the versions of Python and torch, and what decides torch's float
rounding here (its CPU kernels and the suite's thread count, SUITE_THREADS: tests compare fresh training
with these results exactly). A fixture is built in a staging folder beside its place and renamed into it
whole, under a file lock, so a second run of the suite trains nothing, two runs at once build it once, and
an interrupted build leaves nothing half-written. Tests get a copy of what they may write to; the cache
itself is only ever read.

LATENT_ATLAS_TEST_CACHE names another folder, or `off` to build every fixture afresh in the test's own
temporary folders (what the cache saves is then measurable)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
from filelock import FileLock

from model.parallel import threads_per_worker

CACHE_ENV = "LATENT_ATLAS_TEST_CACHE"
# torch's threads in a test process, fixed when it starts: the cores shared out between pytest-xdist's
# workers (make test, make check), else torch's own default. Fixtures are keyed and built with these, so a
# test that changes the process's threads (a server sets its own) cannot make a later fixture miss.
SUITE_THREADS = (
    threads_per_worker(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    if "PYTEST_XDIST_WORKER_COUNT" in os.environ
    else torch.get_num_threads()
)
ROOT = Path(__file__).resolve().parents[1]
MODEL_SOURCES = (ROOT / "model",)  # what decides every trained result
KEPT_PER_FIXTURE = 3  # results of other sources kept (a fresh clone beside a working copy), newest first


def cache_root() -> Path | None:
    """Where fixtures are kept (None: the cache is off)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "latent-atlas-tests"


def source_digest(folders: Iterable[Path]) -> str:
    """A hash of every Python file under `folders`, by path and content."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def fixture_key(name: str, settings: Mapping[str, object], sources: Iterable[Path] = MODEL_SOURCES) -> str:
    """The key of one fixture's result: its name, settings, sources and the versions that run them."""
    decided = {
        "name": name,
        "settings": settings,
        "sources": source_digest(sources),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "kernels": (platform.machine(), torch.backends.cpu.get_cpu_capability(), SUITE_THREADS),
    }
    return hashlib.sha256(json.dumps(decided, sort_keys=True, default=str).encode()).hexdigest()[:20]


def cached(
    name: str,
    settings: Mapping[str, object],
    build: Callable[[Path], None],
    *,
    sources: Iterable[Path] = MODEL_SOURCES,
    scratch: Path,
) -> Path:
    """The folder `build` fills for these settings: from the cache when it holds one, else built (into
    `scratch` when the cache is off). Read it; copy what a test writes to (`copy_tree`)."""
    root = cache_root()
    if root is None:
        _with_suite_threads(build, scratch)
        return scratch
    shelf = root / name
    shelf.mkdir(parents=True, exist_ok=True)
    folder = shelf / fixture_key(name, settings, sources)
    if folder.is_dir():
        return folder
    with FileLock(str(shelf / ".lock")):
        if folder.is_dir():  # another run built it while this one waited
            return folder
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=shelf))
        try:
            _with_suite_threads(build, staging)
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        # Older sources' results are never asked for again; the newest few stay for checkouts side by side.
        kept = sorted((entry for entry in shelf.iterdir() if entry.is_dir()), key=lambda e: e.stat().st_mtime)
        for stale in kept[:-KEPT_PER_FIXTURE]:
            shutil.rmtree(stale, ignore_errors=True)
    return folder


def _with_suite_threads(build: Callable[[Path], None], folder: Path) -> None:
    previous = torch.get_num_threads()
    torch.set_num_threads(SUITE_THREADS)
    try:
        build(folder)
    finally:
        torch.set_num_threads(previous)


def copy_tree(source: Path, destination: Path) -> Path:
    """A copy of a cached folder's contents into `destination` (created; existing entries kept)."""
    shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
    return destination
