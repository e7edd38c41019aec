"""The served models' nonlinear planes: which are computed, computing (with progress) or failed, the
computation each starts in the background, and the planes map points and new latents go through."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
import torch
from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from app.background import ABSENT, READY, BackgroundStatus, Computations
from app.params import check_within
from app.plane_worker import PlaneWorker
from app.served_model import ServedModel
from model.data import MapSplit
from model.latent_map import LatentMap, grid_points, padded_range
from model.planes import PLANE_TITLES, NonlinearMethod, NonlinearPlane, PlaneKey, read_plane

SPLIT_NOUNS = {"test": "test images", "train": "training images", "all": "test and training images"}


def plane_name(served: ServedModel, split: MapSplit, method: NonlinearMethod) -> str:
    return f"the {PLANE_TITLES[method]} plane of {served.model_id}'s {SPLIT_NOUNS[split]}"


class Planes:
    """The nonlinear planes of every served model and split, each computed once (a process of its own
    fits them; another places new latents, so a placement never waits behind a fit)."""

    def __init__(self) -> None:
        self.fitter = PlaneWorker("plane fitter")
        self.placer = PlaneWorker("plane placer")
        self._planes: dict[tuple[str, ...], NonlinearPlane] = {}
        self._computing = Computations()

    @staticmethod
    def key(served: ServedModel, split: MapSplit, method: NonlinearMethod) -> PlaneKey:
        return PlaneKey(served.loaded.weights, served.dataset.info.key, split, served.size_of(split), method)

    @staticmethod
    def _id(served: ServedModel, split: MapSplit, method: NonlinearMethod) -> tuple[str, ...]:
        return (served.model_id, served.loaded.weights, split, method)  # a retrained model is another

    def _check(self, served: ServedModel) -> None:
        if served.loaded.latent_dim <= 2:
            raise HTTPException(
                409, f"{served.model_id} has a 2-D latent space: its map is the latent plane itself, exact"
            )

    async def status(self, served: ServedModel, split: MapSplit, method: NonlinearMethod) -> BackgroundStatus:
        """The plane's status; a plane another server process cached is read (and is then ready)."""
        self._check(served)
        name = self._id(served, split, method)
        if name in self._planes:
            return READY
        if name in self._computing.running:
            return self._computing.running[name]
        return READY if await run_in_threadpool(self.cached, served, split, method) else ABSENT

    def cached(self, served: ServedModel, split: MapSplit, method: NonlinearMethod) -> NonlinearPlane | None:
        """The plane as this process holds it, or as a server process (this one earlier, or another) cached
        it beside the model, read now; None when neither has it. Blocking: the cache is read from disk and
        a training split encoded on first use."""
        found = self._planes.get(self._id(served, split, method))
        if found is not None:
            return found
        xy = read_plane(served.loaded.folder, self.key(served, split, method))
        if xy is None:
            return None
        plane = NonlinearPlane(method, served.map_of(split).mu, torch.from_numpy(xy))
        self._ready(served, split, method, plane)
        return plane

    async def start(self, served: ServedModel, split: MapSplit, method: NonlinearMethod) -> BackgroundStatus:
        """Start computing the plane in the background unless it is computed or computing."""
        status = await self.status(served, split, method)
        if status.state in ("ready", "computing"):
            return status

        async def compute(status: BackgroundStatus) -> None:
            latent_map = await run_in_threadpool(served.map_of, split)
            key = self.key(served, split, method)
            fitting = self.fitter.fit(served.loaded.folder, key, latent_map.mu.numpy(), status.report)
            xy = await asyncio.wrap_future(fitting)
            self._ready(served, split, method, NonlinearPlane(method, latent_map.mu, torch.from_numpy(xy)))

        name, title = self._id(served, split, method), plane_name(served, split, method)
        return self._computing.start(name, compute, stage="encoding the images", title=title)

    def _ready(
        self, served: ServedModel, split: MapSplit, method: NonlinearMethod, plane: NonlinearPlane
    ) -> None:
        """Keep the plane, and have the placer rebuild its transform now (seconds for 10,000 encodings)
        rather than when the first upload waits for it."""
        self._planes[self._id(served, split, method)] = plane
        key = self.key(served, split, method)
        mu = plane.mu.numpy()
        self.placer.transform(served.loaded.folder, key, mu, plane.xy.numpy(), mu[:1])

    async def plane(self, served: ServedModel, split: MapSplit, method: NonlinearMethod) -> NonlinearPlane:
        """The computed plane (cached by any server process), or the 409 saying it is not (and how to
        start it)."""
        self._check(served)
        status = self._computing.running.get(self._id(served, split, method))
        found = self._planes.get(self._id(served, split, method))
        if found is None and status is None:
            found = await run_in_threadpool(self.cached, served, split, method)
        if found is not None:
            return found
        name = plane_name(served, split, method)
        if status is not None and status.state == "failed":
            raise HTTPException(409, f"{name} could not be computed: {status.error}")
        where = f"/api/models/{served.model_id}/planes/{method}?split={split}"
        raise HTTPException(
            409, f"{name} is not computed yet: POST {where} starts it; GET there says how far"
        )

    async def place(
        self, served: ServedModel, split: MapSplit, method: NonlinearMethod, z: torch.Tensor
    ) -> torch.Tensor:
        """Latents z: [B, D] placed on the plane by its method's own transform -> [B, 2]."""
        plane = await self.plane(served, split, method)
        key = self.key(served, split, method)
        future = self.placer.transform(
            served.loaded.folder, key, plane.mu.numpy(), plane.xy.numpy(), z.numpy().astype(np.float32)
        )
        try:
            return torch.from_numpy(await asyncio.wrap_future(future))
        except RuntimeError as error:
            name = plane_name(served, split, method)
            raise HTTPException(503, f"could not place the points on {name}: {error}") from error

    def close(self) -> None:
        """Stop every computation (the server is stopping)."""
        self.fitter.close()
        self.placer.close()


@dataclass(frozen=True)
class ShownPlane:
    """The plane a request's map points are on: the model's exact one (`nonlinear` None), or a computed
    UMAP or t-SNE plane, whose points decode an estimate."""

    latent_map: LatentMap  # the test split's: its plane is the exact one
    nonlinear: NonlinearPlane | None
    split: MapSplit  # whose points the request is about (and whose UMAP or t-SNE plane)

    @property
    def limit(self) -> float:
        """The largest |coordinate| of a map point of this plane."""
        return self.latent_map.coordinate_limit if self.nonlinear is None else self.nonlinear.limit

    def lift(self, points: torch.Tensor) -> torch.Tensor:
        """Map points [B, 2] -> latents [B, D] (exact, or the nonlinear plane's estimate)."""
        if self.nonlinear is None:
            return self.latent_map.plane.lift(points)
        return self.nonlinear.lift(points)[0]

    def grid_latents(self, x_axis: torch.Tensor, y_axis: torch.Tensor) -> torch.Tensor:
        """The latents of latent_map.grid_points(x_axis, y_axis), row by row."""
        return self.lift(grid_points(x_axis, y_axis))

    def extent(self, axis: int) -> tuple[float, float]:
        """Its points' padded range along x (0) or y (1)."""
        if self.nonlinear is None:
            return self.latent_map.extent(axis)
        return padded_range(self.nonlinear.xy[:, axis])

    def check_range(self, low_high: list[float], where: str) -> tuple[float, float]:
        """A 'low,high' range of this plane's coordinates, or the 422 naming the one out of bounds."""
        check_within(low_high, where, self.limit)
        return low_high[0], low_high[1]
