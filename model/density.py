"""A map too large to draw point by point: its points aggregated into density tiles (datashader), tiled
by zoom as web maps are, and the points of a small region picked out to be drawn as points.

The tiles cover a square around the points: at zoom z it is cut into 2^z x 2^z tiles of TILE_PIXELS
square, tile (i, j) the i-th from the left and the j-th from the bottom. Each pixel counts the points of
each class under it; a tile is shaded with the classes' colours mixed by their counts and its opacity by
the total, on one scale for every tile of a zoom level (so tiles meet without seams)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch

from model.latent_map import padded_range

if TYPE_CHECKING:
    import xarray

TILE_PIXELS = 256
MAX_ZOOM = 16  # 2^16 tiles a side: a pixel of 1/16,777,216 of the map's side, far below any latent's scale
TILE_CACHE = 1024  # tiles kept per map (~30 KB each): a few views' worth at every zoom level
MIN_ALPHA = 110  # of a pixel holding one point: visible on white, well below a dense pixel's 255
SPARSE_PEAK = 4.0  # a zoom level whose densest pixel would hold fewer points than this draws them spread


@dataclass(frozen=True)
class TileBox:
    """The region a tile covers, in map coordinates."""

    x0: float
    x1: float
    y0: float
    y1: float


class DensityMap:
    """A large map's points (xy [N, 2], labels [N] of `class_count` classes) as density tiles and regions."""

    def __init__(self, xy: torch.Tensor, labels: torch.Tensor, class_count: int) -> None:
        import pandas as pd

        if xy.ndim != 2 or xy.shape[1] != 2 or labels.shape != (xy.shape[0],):
            raise ValueError(f"need xy [N, 2] and labels [N], got {list(xy.shape)} and {list(labels.shape)}")
        self.xy = xy.float()
        self.labels = labels
        self.class_count = class_count
        (x0, x1), (y0, y1) = padded_range(self.xy[:, 0]), padded_range(self.xy[:, 1])
        half = max(x1 - x0, y1 - y0) / 2
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.bounds = TileBox(cx - half, cx + half, cy - half, cy + half)  # the square zoom 0's tile covers
        self._frame = pd.DataFrame(
            {
                "x": self.xy[:, 0].numpy(),
                "y": self.xy[:, 1].numpy(),
                "label": pd.Categorical(labels.numpy(), categories=range(class_count)),
            }
        )
        # The densest pixel of zoom 0: a zoom level's scale is this over the 4^z pixels it spreads to.
        self._peak = max(1.0, float(self.counts(0, 0, 0).sum(axis=-1).max()))
        self.tile_png = lru_cache(maxsize=TILE_CACHE)(self._tile_png)

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def box(self, zoom: int, i: int, j: int) -> TileBox:
        """The region of tile (i, j) of `zoom`; ValueError names a tile that does not exist."""
        if not 0 <= zoom <= MAX_ZOOM:
            raise ValueError(f"zoom must be 0 to {MAX_ZOOM}, got {zoom}")
        side = 2**zoom
        if not (0 <= i < side and 0 <= j < side):
            raise ValueError(f"zoom {zoom} has tiles 0 to {side - 1} along each axis, got ({i}, {j})")
        step = (self.bounds.x1 - self.bounds.x0) / side
        x0, y0 = self.bounds.x0 + i * step, self.bounds.y0 + j * step
        return TileBox(x0, x0 + step, y0, y0 + step)

    def _aggregate(self, zoom: int, i: int, j: int) -> xarray.DataArray:
        import datashader as ds

        box = self.box(zoom, i, j)
        x_range, y_range = (box.x0, box.x1), (box.y0, box.y1)
        canvas = ds.Canvas(plot_width=TILE_PIXELS, plot_height=TILE_PIXELS, x_range=x_range, y_range=y_range)
        aggregate: xarray.DataArray = canvas.points(self._frame, "x", "y", agg=ds.count_cat("label"))
        return aggregate

    def counts(self, zoom: int, i: int, j: int) -> np.ndarray:
        """The points of each class under each pixel of a tile: [rows (bottom first), columns, classes]."""
        return np.asarray(self._aggregate(zoom, i, j).values)

    def _tile_png(self, zoom: int, i: int, j: int, colors: tuple[str | None, ...]) -> bytes:
        import datashader.transfer_functions as tf

        if len(colors) != self.class_count:
            raise ValueError(f"need a colour for each of the {self.class_count} classes, got {len(colors)}")
        shown = [label for label, color in enumerate(colors) if color is not None]
        aggregate = self._aggregate(zoom, i, j)
        if not shown:
            image = tf.Image(np.zeros((TILE_PIXELS, TILE_PIXELS), dtype=np.uint32))
        else:
            kept = aggregate.sel(label=shown)  # a hidden class (the page's filter) is left out of the tile
            peak = self._peak / 4**zoom
            image = tf.shade(
                kept,
                color_key=[colors[label] for label in shown],
                how="log",
                span=(1, max(2.0, peak)),
                min_alpha=MIN_ALPHA,
            )
            if peak < SPARSE_PEAK:  # a pixel here holds a point or two: drawn 3 px wide, as a point is
                image = tf.spread(image, px=1)
        buffer = io.BytesIO()
        image.to_pil().save(buffer, format="PNG")
        return buffer.getvalue()

    def region(self, box: TileBox) -> torch.Tensor:
        """The positions of the points inside `box` (edges included), in map order."""
        x, y = self.xy[:, 0], self.xy[:, 1]
        inside = (x >= box.x0) & (x <= box.x1) & (y >= box.y0) & (y <= box.y1)
        return inside.nonzero().squeeze(1)

    def _zoom_for(self, width: float, pixels: int) -> int:
        """The zoom whose tiles draw a region `width` map units wide at about one tile pixel per screen
        pixel when it is `pixels` wide on the screen."""
        side = self.bounds.x1 - self.bounds.x0
        return min(MAX_ZOOM, max(0, round(math.log2(side * pixels / (TILE_PIXELS * width)))))

    def tiles_over(self, view: TileBox, pixels: int) -> tuple[int, list[tuple[int, int, TileBox]]]:
        """The zoom and the tiles (i, j, region) that cover `view`, drawn `pixels` wide on the screen."""
        if view.x1 <= view.x0 or view.y1 <= view.y0 or pixels <= 0:
            raise ValueError(f"need a view of positive size and a positive pixel width, got {view}, {pixels}")
        zoom = self._zoom_for(view.x1 - view.x0, pixels)
        side = 2**zoom
        step = (self.bounds.x1 - self.bounds.x0) / side

        def span(low: float, high: float, origin: float) -> range:
            first = max(0, math.floor((low - origin) / step))
            return range(first, min(side - 1, math.floor((high - origin) / step)) + 1)

        return zoom, [
            (i, j, self.box(zoom, i, j))
            for j in span(view.y0, view.y1, self.bounds.y0)
            for i in span(view.x0, view.x1, self.bounds.x0)
        ]
