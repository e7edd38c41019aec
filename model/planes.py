"""Nonlinear map planes: UMAP (umap-learn) and t-SNE (openTSNE) of a split's posterior means, for models
above two dimensions, whose PCA plane hides the structure (`latent_map.MapPlane` stays the exact one).

A plane is the 2-D embedding of the split's encodings, computed once and cached beside the model as
`planes/<split>-<method>.safetensors` (coordinates only: no pickled object is ever read back). New latents
are placed by the method's own transform, rebuilt from the cached coordinates with the library's public
API. A nonlinear plane has no inverse: a map point decodes an estimate, the latents of the encodings
nearest it on the plane averaged with inverse squared distance weights.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import torch

from model.tensor_cache import read_cached, write_cached

PlaneMethod = Literal["pca", "umap", "tsne"]
NonlinearMethod = Literal["umap", "tsne"]
PLANE_METHODS: tuple[PlaneMethod, ...] = get_args(PlaneMethod)
PLANE_TITLES: dict[PlaneMethod, str] = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
LIFT_NEIGHBORS = 8  # encodings behind a map point's estimated latent
# The libraries' defaults, named so that a cached plane says what it was computed with.
UMAP_SETTINGS = {"n_neighbors": 15, "min_dist": 0.1}
TSNE_SETTINGS = {"perplexity": 30}
TSNE_ITERATIONS = 250 + 500  # openTSNE's early exaggeration, then its main phase

Progress = Callable[[str, float], None]  # (stage, fraction of the whole done)


def lift_description(method: PlaneMethod | Literal["latent"]) -> str:
    """How a map point of the plane ("latent": a 2-D model's own) becomes a latent, as the pages say it."""
    if method == "latent":
        return "exact: the map is the latent plane itself"
    if method == "pca":
        return "exact: the plane's point in latent space"
    return (
        f"an estimate: the latents of the {LIFT_NEIGHBORS} encodings nearest the point on the "
        f"{PLANE_TITLES[method]} plane, averaged with weights 1 / distance^2"
    )


class _EpochCounter:
    """A file for tqdm that reads umap-learn's epoch bar ("{n}/{total}") into progress calls."""

    def __init__(self, progress: Progress, start: float) -> None:
        self.progress, self.start = progress, start

    def write(self, text: str) -> None:
        found = re.search(r"(\d+)/(\d+)", text)
        if found and int(found[2]):
            self.progress("laying out", self.start + (1 - self.start) * int(found[1]) / int(found[2]))

    def flush(self) -> None:
        pass


def _umap() -> Any:
    """umap-learn, imported where it is used: numba compiles on import, which only the process that
    computes planes should pay for. Its warning that ParametricUMAP needs TensorFlow is not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Tensorflow not installed", ImportWarning)
        import umap
    return umap


def fit_embedding(method: NonlinearMethod, mu: np.ndarray, progress: Progress) -> np.ndarray:
    """The 2-D embedding of latents mu: [N, D] -> [N, 2] (float32), reporting progress as it goes."""
    if method == "umap":
        umap = _umap()
        progress("finding neighbours", 0.0)
        tqdm_options = {"disable": False, "file": _EpochCounter(progress, 0.3), "bar_format": "{n}/{total}"}
        reducer = umap.UMAP(**UMAP_SETTINGS, tqdm_kwds=tqdm_options | {"mininterval": 0.5})
        return np.asarray(reducer.fit_transform(mu), dtype=np.float32)
    from openTSNE import TSNE

    progress("finding neighbours", 0.0)
    calls = 0

    def iterated(_iteration: int, _error: float, _embedding: np.ndarray) -> None:
        nonlocal calls
        calls += 1
        progress("laying out", 0.2 + 0.8 * min(1.0, calls * 25 / TSNE_ITERATIONS))

    tsne = TSNE(**TSNE_SETTINGS, n_jobs=-1, random_state=0, callbacks=iterated, callbacks_every_iters=25)
    return np.asarray(tsne.fit(mu), dtype=np.float32)


class Transformer:
    """A fitted plane's own transform of new latents, rebuilt from the fit set's latents and its cached
    coordinates by each library's public API (no pickled object is read)."""

    def __init__(self, method: NonlinearMethod, mu: np.ndarray, xy: np.ndarray) -> None:
        self.method = method
        if method == "umap":
            umap = _umap()
            # n_epochs=0 builds the neighbour graph and search index and leaves the layout to us: the
            # cached one (UMAP rescales an array init to [0, 10]; the fitted coordinates go back after).
            rebuilt = umap.UMAP(**UMAP_SETTINGS, n_epochs=0, init=xy).fit(mu)
            rebuilt.embedding_, rebuilt.n_epochs = xy, None  # transform then runs its own default epochs
            self._model: Any = rebuilt
        else:
            from openTSNE import TSNEEmbedding, affinity

            neighbours = affinity.PerplexityBasedNN(mu, **TSNE_SETTINGS, n_jobs=-1, random_state=0)
            self._model = TSNEEmbedding(xy.astype(np.float64), neighbours, n_jobs=-1, random_state=0)

    def transform(self, z: np.ndarray) -> np.ndarray:
        """z: [B, D] -> map points [B, 2]."""
        return np.asarray(self._model.transform(z), dtype=np.float32)


@dataclass(frozen=True)
class PlaneKey:
    """What a cached plane must match to be reused: the model's weights, the data set and split (its
    size), the method and its settings."""

    weights: str
    dataset: str
    split: str
    points: int
    method: NonlinearMethod

    def metadata(self) -> dict[str, str]:
        settings = UMAP_SETTINGS if self.method == "umap" else TSNE_SETTINGS
        return {"key": json.dumps({**vars(self), "settings": settings}, sort_keys=True)}

    def path(self, folder: Path) -> Path:
        return folder / "planes" / f"{self.split}-{self.method}.safetensors"


def read_plane(folder: Path, key: PlaneKey) -> np.ndarray | None:
    """The cached coordinates [N, 2] of the plane `key` names, or None (none cached, or another's)."""
    cached = read_cached(key.path(folder), key.metadata(), ("xy",))
    if cached is None or cached["xy"].shape != (key.points, 2):
        return None
    return cached["xy"].numpy()


def write_plane(folder: Path, key: PlaneKey, xy: np.ndarray) -> None:
    """Cache the coordinates [N, 2], written whole (a reader sees the old file or the new one)."""
    write_cached(key.path(folder), {"xy": torch.from_numpy(xy)}, key.metadata())


class NonlinearPlane:
    """A split's encodings mu: [N, D] drawn at xy: [N, 2] by UMAP or t-SNE."""

    def __init__(self, method: NonlinearMethod, mu: torch.Tensor, xy: torch.Tensor) -> None:
        self.method, self.mu, self.xy = method, mu, xy
        self.limit = float(np.ceil(1.1 * float(xy.abs().max())))  # the plane's points and a margin

    def lift(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map points [B, 2] -> (estimated latents [B, D], the distance on the plane to the nearest
        encoding [B]): the latents of the LIFT_NEIGHBORS encodings nearest each point, weighted by
        1 / distance^2, so a point on an encoding decodes (nearly) that encoding."""
        distances = torch.cdist(points, self.xy)  # [B, N]: cheap in two dimensions
        nearest, indices = distances.topk(min(LIFT_NEIGHBORS, len(self.xy)), dim=1, largest=False)
        weights = nearest.pow(2).clamp_min(1e-12).reciprocal()
        weights = weights / weights.sum(dim=1, keepdim=True)
        return torch.einsum("bk,bkd->bd", weights, self.mu[indices]), nearest[:, 0]
