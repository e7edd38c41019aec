"""A selection of a latent map's points (a lasso or a box drawn on the map): which images (the points a
polygon holds, for a map too large to list its points on the page), how many of each class, where their
mean encoding sits, and every member's coordinates as CSV for use elsewhere."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from model.latent_map import LatentMap


@dataclass(frozen=True)
class Selection:
    """Members of a map's split: indices [M] (sorted, unique), their class counts [classes] and their
    mean posterior mean [D]."""

    indices: torch.Tensor
    class_counts: list[int]
    mean_z: torch.Tensor


def members(latent_map: LatentMap, indices: Sequence[int], noun: str = "test image") -> torch.Tensor:
    """The distinct indices of a selection, sorted: [M]; ValueError for none, or for one outside the map
    (naming it a `noun`)."""
    if len(indices) == 0:
        raise ValueError("the selection is empty: select at least one point")
    chosen: torch.Tensor = torch.tensor(list(indices), dtype=torch.long).unique()
    outside = chosen[(chosen < 0) | (chosen >= len(latent_map))]
    if len(outside):
        raise ValueError(f"no {noun} {int(outside[0])} (0..{len(latent_map) - 1})")
    return chosen


def inside_polygon(xy: torch.Tensor, polygon: torch.Tensor) -> torch.Tensor:
    """The positions of the points xy [N, 2] inside `polygon` [K, 2] (its vertices in order, closed
    implicitly), by the even-odd rule: a ray from the point crosses its edges an odd number of times.
    Only the points in the polygon's bounding box are tested against each edge."""
    if polygon.ndim != 2 or polygon.shape[1] != 2 or len(polygon) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices [x, y], got {list(polygon.shape)}")
    low, high = polygon.min(dim=0).values, polygon.max(dim=0).values
    candidates = ((xy >= low) & (xy <= high)).all(dim=1).nonzero().squeeze(1)
    x, y = xy[candidates, 0], xy[candidates, 1]
    inside = torch.zeros(len(candidates), dtype=torch.bool)
    for (x0, y0), (x1, y1) in zip(polygon.tolist(), polygon.roll(-1, dims=0).tolist(), strict=True):
        straddles = (y0 > y) != (y1 > y)  # the edge spans the point's height (half-open: a vertex once)
        if y1 != y0:
            crossing = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            inside ^= straddles & (x < crossing)
    return candidates[inside]


def region_members(
    latent_map: LatentMap, polygon: Sequence[Sequence[float]], labels: Sequence[int] | None, limit: int
) -> torch.Tensor:
    """The positions of the map's points inside `polygon` (its vertices [x, y] on the map's plane), of
    the classes `labels` only when given; ValueError when they are more than `limit`."""
    inside = inside_polygon(latent_map.xy, torch.tensor(polygon, dtype=latent_map.xy.dtype))
    if labels is not None:
        inside = inside[torch.isin(latent_map.labels[inside], torch.tensor(list(labels), dtype=torch.long))]
    if len(inside) > limit:
        raise ValueError(
            f"it holds {len(inside):,} points; a selection holds at most {limit:,}: draw a smaller one"
        )
    return inside


def select(
    latent_map: LatentMap, indices: Sequence[int], classes: int, noun: str = "test image"
) -> Selection:
    """The selection of `indices` from the map, counted over `classes` classes."""
    chosen = members(latent_map, indices, noun)
    counts = torch.bincount(latent_map.labels[chosen].long(), minlength=classes)
    return Selection(indices=chosen, class_counts=counts.tolist(), mean_z=latent_map.mu[chosen].mean(dim=0))


def selection_csv(
    latent_map: LatentMap,
    indices: Sequence[int],
    class_names: Sequence[str],
    point_of: Callable[[int], tuple[str, int]],
    noun: str = "test image",
) -> str:
    """One row per member: its index in its split and that split (`point_of` maps a point of the map to
    both), label (the class's name), map x and y, and the full z (q's mean)."""
    chosen = members(latent_map, indices, noun)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    latents = [f"z{d + 1}" for d in range(latent_map.latent_dim)]
    writer.writerow(["index", "split", "label", "x", "y", *latents])
    rows = zip(
        chosen.tolist(),
        latent_map.labels[chosen].tolist(),
        latent_map.xy[chosen].tolist(),
        latent_map.mu[chosen].tolist(),
        strict=True,
    )
    for position, label, (x, y), z in rows:
        split, index = point_of(position)
        writer.writerow([index, split, class_names[label], f"{x:.6g}", f"{y:.6g}", *(f"{v:.6g}" for v in z)])
    return out.getvalue()
