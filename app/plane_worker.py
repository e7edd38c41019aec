"""A process of its own for the nonlinear planes' work (fitting UMAP or t-SNE, placing latents on a fitted
plane): numba compiles for half a minute in each new process and its loops hold the GIL, so they stay out
of the server's; a stop ends them at once; a crash fails the requests it held and the next starts anew."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from model.planes import (
    PlaneKey,
    Progress,
    Transformer,
    fit_embedding,
    read_plane,
    write_plane,
)

log = logging.getLogger("latent_atlas")


def computed_plane(folder: Path, key: PlaneKey, mu: np.ndarray, progress: Progress) -> np.ndarray:
    """The plane `key` names: cached, or fitted and cached. One process of any server computes it; the
    others wait for it and read what it wrote."""
    path = key.path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path.with_name(f".{path.name}.lock"))
    if not lock.acquire(blocking=False):
        progress("waiting for another server process computing it", 0.0)
        lock.acquire()
    try:
        cached = read_plane(folder, key)
        if cached is not None:
            return cached
        xy = fit_embedding(key.method, mu, progress)
        write_plane(folder, key, xy)
        return xy
    finally:
        lock.release()


def _report(connection: Connection, request_id: int, stage: str, fraction: float) -> None:
    connection.send(("progress", request_id, stage, fraction))


def _serve(connection: Connection) -> None:
    """The child's loop: (id, kind, args) in; ("progress", id, stage, fraction), ("done", id, result)
    or ("failed", id, message) out."""
    fitted_points: dict[tuple[str, PlaneKey], tuple[np.ndarray, np.ndarray]] = {}  # (mu, xy) by plane
    transformers: dict[tuple[str, PlaneKey], Transformer] = {}
    while True:
        request_id, kind, args = connection.recv()
        try:
            if kind == "fit":
                folder, key, mu = args
                result: Any = computed_plane(folder, key, mu, partial(_report, connection, request_id))
            else:
                name, fitted, z = args  # fitted: (mu, xy) the first time this process is sent the plane
                if fitted is not None:
                    fitted_points[name] = fitted
                if name not in transformers:  # kept even if a rebuild fails: the next request retries
                    transformers[name] = Transformer(name[1].method, *fitted_points[name])
                result = transformers[name].transform(z)
            connection.send(("done", request_id, result))
        except Exception as error:  # said to the request that asked; the process goes on serving
            connection.send(("failed", request_id, f"{type(error).__name__}: {error}"))


@dataclass
class _Child:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    pending: dict[int, tuple[Future[Any], Progress | None]] = field(default_factory=dict)
    planes: set[tuple[str, PlaneKey]] = field(default_factory=set)  # whose fitted points it was sent


class PlaneWorker:
    """One child process running plane requests in turn, started on the first request (and again after
    a crash)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._ids = count()
        self._closed = False

    def fit(self, folder: Path, key: PlaneKey, mu: np.ndarray, progress: Progress) -> Future[np.ndarray]:
        """The plane's coordinates [N, 2] (cached, or fitted from mu: [N, D]), with progress calls."""
        return self._submit("fit", lambda _: (folder, key, mu), progress)

    def transform(
        self, folder: Path, key: PlaneKey, mu: np.ndarray, xy: np.ndarray, z: np.ndarray
    ) -> Future[np.ndarray]:
        """Latents z: [B, D] placed on the plane fitted at xy: [N, 2] to mu: [N, D] -> [B, 2]. The fitted
        points travel to the process once (it keeps the transform it rebuilds); later placements send z."""
        name = (str(folder), key)

        def args(child: _Child) -> tuple[Any, ...]:
            fitted = None if name in child.planes else (mu, xy)
            child.planes.add(name)
            return name, fitted, z

        return self._submit("transform", args, None)

    def _submit(
        self, kind: str, args: Callable[[_Child], tuple[Any, ...]], progress: Progress | None
    ) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is stopping")
            if self._child is None or not self._child.process.is_alive():
                self._child = self._start()
            request_id = next(self._ids)
            self._child.pending[request_id] = (future, progress)
            # A process that died since it was started cannot take the request: its reader fails it,
            # saying how the process stopped.
            with contextlib.suppress(OSError):
                self._child.connection.send((request_id, kind, args(self._child)))
        return future

    def _start(self) -> _Child:
        context = multiprocessing.get_context("spawn")  # no fork of a server's threads
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs,), name=f"latent-atlas {self.name}", daemon=True
        )
        process.start()
        theirs.close()
        child = _Child(process, ours)
        threading.Thread(target=self._read, args=(child,), name=f"{self.name} reader", daemon=True).start()
        return child

    def _read(self, child: _Child) -> None:
        while True:
            try:
                kind, request_id, *rest = child.connection.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                future, progress = child.pending.get(request_id, (None, None))
                if kind != "progress":
                    child.pending.pop(request_id, None)
            if future is None:
                continue
            if kind == "progress":
                if progress is not None:
                    progress(*rest)
            elif kind == "done":
                future.set_result(rest[0])
            else:
                future.set_exception(RuntimeError(rest[0]))
        child.process.join(timeout=5)
        why = (
            "the server is stopping"
            if self._closed
            else f"the plane process stopped (exit code {child.process.exitcode})"
        )
        with self._lock:
            lost = list(child.pending.values())
            child.pending.clear()
        for future, _ in lost:
            future.set_exception(RuntimeError(why))
        if not self._closed:
            log.error("%s: %s", self.name, why)

    def close(self) -> None:
        """Stop the process and whatever it was computing."""
        with self._lock:
            self._closed = True
            child = self._child
        if child is not None and child.process.is_alive():
            child.process.terminate()
            child.process.join(timeout=5)
