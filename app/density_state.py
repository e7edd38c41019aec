"""Maps too large to draw point by point: a large split's encoding, run in the background with progress
(a thread: torch's kernels let the server go on), and its density map, built once it is encoded."""

from __future__ import annotations

import threading

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from app.background import ABSENT, READY, BackgroundStatus, Computations
from app.served_model import ServedModel
from model.budget import EvaluationStopped
from model.data import MapSplit
from model.density import DensityMap
from model.latent_map import LatentMap
from model.planes import PlaneMethod

REGION_LIMIT = 50_000  # a view holding no more points than this draws them (70,000 of MNIST draw well)


class DensityMaps:
    """Every served model's large splits: their encodings (each computed once) and density maps."""

    def __init__(self, density_from: int) -> None:
        self.density_from = density_from  # more points than this: the map is drawn as density
        self._maps: dict[tuple[str, str, MapSplit], DensityMap] = {}
        self._computing = Computations()
        self._building = threading.Lock()
        self._closing = False

    def is_large(self, served: ServedModel, split: MapSplit) -> bool:
        """Whether the split's map is drawn as density."""
        return served.size_of(split) > self.density_from

    def check_plane(self, served: ServedModel, split: MapSplit, method: PlaneMethod) -> None:
        """The 400 for a UMAP or t-SNE plane of a split drawn as density (a fit would take hours)."""
        if method != "pca" and self.is_large(served, split):
            raise HTTPException(
                400,
                f"UMAP and t-SNE planes are fitted to maps of up to {self.density_from:,} points; "
                f"{served.model_id}'s {split} map has {served.size_of(split):,}: "
                "it is shown on its PCA plane",
            )

    def status(self, served: ServedModel, split: MapSplit) -> BackgroundStatus:
        """Whether the split is encoded, encoding (how far) or failed."""
        running = self._computing.running.get(self._name(served, split))
        if running is not None:
            return running
        return READY if served.has_map(split) else ABSENT

    def start(self, served: ServedModel, split: MapSplit) -> BackgroundStatus:
        """Encode the split in the background unless it is encoded or encoding."""
        status = self.status(served, split)
        if status.state in ("ready", "computing"):
            return status
        total = served.size_of("train")

        def report(done: int) -> None:  # on the encoding's thread
            if self._closing:
                raise EvaluationStopped("the server is stopping")
            status.report(f"training images: {done:,} of {total:,}", done / total)

        def encode_and_warm() -> None:
            served.map_of(split, report)
            if self.is_large(served, split):
                status.report("aggregating the points", 1.0)
                # The first aggregation and shading compile datashader's kernels (seconds): done here,
                # the page's first tiles come at their usual ~0.1 s.
                density = self.density(served, split)
                density.tile_png(0, 0, 0, ("#000000",) * density.class_count)

        async def encode(status: BackgroundStatus) -> None:
            await run_in_threadpool(encode_and_warm)

        title = f"{served.model_id}'s {split} map"
        return self._computing.start(self._name(served, split), encode, stage="starting", title=title)

    def encoded(self, served: ServedModel, split: MapSplit) -> LatentMap:
        """The split's map; for a large split not yet encoded, the 409 saying how to encode it in the
        background rather than in a request. Call it off the event loop (a small split may encode)."""
        if self.is_large(served, split) and not served.has_map(split):
            where = f"/api/models/{served.model_id}/encodings?split={split}"
            status = self._computing.running.get(self._name(served, split))
            why = f"its encoding failed ({status.error}); " if status and status.state == "failed" else ""
            raise HTTPException(409, f"{served.model_id}'s {split} map is not encoded yet: {why}POST {where}")
        return served.map_of(split)

    def density(self, served: ServedModel, split: MapSplit) -> DensityMap:
        """The split's density map (built on first use, ~1.5 s a million points), or the 409 of encoded().
        Call it off the event loop."""
        latent_map = self.encoded(served, split)
        name = self._name(served, split)
        with self._building:
            if name not in self._maps:
                classes = len(served.dataset.info.class_names)
                self._maps[name] = DensityMap(latent_map.xy, latent_map.labels, classes)
        return self._maps[name]

    @staticmethod
    def _name(served: ServedModel, split: MapSplit) -> tuple[str, str, MapSplit]:
        return served.model_id, served.loaded.weights, split

    def close(self) -> None:
        """Stop an encoding at its next batch (the server is stopping)."""
        self._closing = True
