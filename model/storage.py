"""Writes that are never seen half-done: temp file or folder, fsync, then rename. And the fingerprint of a
file's content, which caches use to tell whether what they were computed from has changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write `path` so that a reader sees the old file or the new one, never a part: a temp file beside
    it, fsync, then rename. A failure (or Ctrl-C) leaves the old file and no temp file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def file_fingerprint(path: Path) -> str:
    """A short hash of a file's content: equal fingerprints mean the same weights (or data)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _backup_of(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.old"


def readable_folder(folder: Path) -> Path:
    """Where to read `folder` from: itself, or its backup when a crash cut a replace_folder between its
    two renames. Readers never move anything: only the writer repairs (recover_folder)."""
    backup = _backup_of(folder)
    return backup if not folder.exists() and backup.exists() else folder


def recover_folder(folder: Path) -> None:
    """For the writer, before it writes: undo what a killed replace_folder left behind, a backup not yet
    renamed back and staging folders never renamed into place."""
    backup = _backup_of(folder)
    if backup.exists():
        if folder.exists():
            shutil.rmtree(backup)
        else:
            os.replace(backup, folder)
    for stale in folder.parent.glob(f".{folder.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def replace_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Replace `folder` by a new one that `fill(staging)` writes, so readers see the old folder or the
    new one, never a mix. A failure inside `fill` (or Ctrl-C) leaves the old folder untouched."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        fill(staging)
        for file in staging.iterdir():
            fsync_path(file)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    move_into_place(staging, folder)


def move_into_place(source: Path, folder: Path) -> None:
    """Put the complete folder `source` at `folder` (on the same file system) by renames alone, replacing
    what is there: readers see the old folder or the new one, and a crash between the two renames leaves
    the old one as the backup that readable_folder and recover_folder find. The caller repairs `folder`
    first (recover_folder), as its staging folders would look stale to the repair."""
    backup = _backup_of(folder)
    if folder.exists():
        os.replace(folder, backup)
    os.replace(source, folder)
    shutil.rmtree(backup, ignore_errors=True)
    fsync_path(folder.parent)
