"""Writes that are never seen half-done: temp file or folder, fsync, then rename. The fingerprint of a
file's content, which caches use to tell whether what they were computed from has changed; and a JSON
value computed once per key and kept in a file beside a model."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

T = TypeVar("T")


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


def read_keyed(path: Path, key: Mapping[str, Any], name: str, decode: Callable[[Any], T]) -> T | None:
    """The value `name` kept in the JSON file `path` if it was computed with `key` (decoded), else None:
    missing, stale or damaged (it is then computed again)."""
    try:
        data = json.loads(path.read_text())
        if data.get("key") != key:
            return None
        return decode(data[name])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def computed_once(
    path: Path,
    key: Mapping[str, Any],
    name: str,
    compute: Callable[[], T],
    *,
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
    refresh: bool = False,
) -> T:
    """The value `name` of `key`: read from `path` when it was kept there with that key (unless `refresh`),
    else computed and written whole. Several processes may ask at once (the workers of `serve --workers N`,
    a CLI beside a server): under a lock beside the file one computes, the others wait and read it."""
    cached = None if refresh else read_keyed(path, key, name, decode)
    if cached is not None:
        return cached
    path.parent.mkdir(parents=True, exist_ok=True)  # an outside model's cache folder starts empty
    with FileLock(path.with_name(f".{path.stem}.lock")):
        cached = None if refresh else read_keyed(path, key, name, decode)
        if cached is not None:
            return cached
        value = compute()
        body = json.dumps({"key": key, name: encode(value)}, indent=2, allow_nan=False) + "\n"
        write_file_atomically(path, body.encode())
    return value


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
