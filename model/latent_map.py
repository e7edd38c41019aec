"""The latent map: where a data split's encodings sit on the 2-D plane the pages draw, and the geometry
between that plane and the latent space (lifting map points, each encoding's ellipse, nearest neighbours,
the coordinate limit, grids of points to decode).

The plane is the identity for a 2-D model; above that, the first two principal components of the split's
posterior means, so that every map point decodes exactly through the plane: z = mean + [x, y] @ components.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from model.data import ImageSet
from model.inference import LoadedModel

MAX_ABS_COORDINATE = 10.0  # beyond this the prior has no mass worth decoding (10 standard deviations)


def coordinate_limit(encodings: torch.Tensor) -> float:
    """The largest |coordinate| a model decodes: 10 prior standard deviations, or 1.5 times its farthest
    encoding for models whose codes ignore the prior (a reconstruction-only model spreads to |z| ~ 25), so
    that every model can decode its own map and a margin around it."""
    return max(MAX_ABS_COORDINATE, math.ceil(1.5 * float(encodings.abs().max())))


def gaussian_axis(n: int) -> torch.Tensor:
    """n coordinates with equal prior mass between neighbours: the inverse CDF of N(0, 1) at the centres
    of n equal quantile bins (Kingma & Welling, Fig. 4)."""
    quantiles = torch.linspace(0.5 / n, 1 - 0.5 / n, n, dtype=torch.float64)
    axis: torch.Tensor = torch.special.ndtri(quantiles).float()
    return axis


def cell_centres(low: float, high: float, n: int) -> torch.Tensor:
    """The centres of n equal cells spanning [low, high]."""
    return low + (high - low) * (torch.arange(n) + 0.5) / n


def padded_range(values: torch.Tensor, margin: float = 0.05) -> tuple[float, float]:
    """The range of values [N], widened by `margin` of its span on each side."""
    low, high = float(values.min()), float(values.max())
    return low - margin * (high - low), high + margin * (high - low)


def grid_points(x_axis: torch.Tensor, y_axis: torch.Tensor) -> torch.Tensor:
    """The map points (x, y) for every y of `y_axis` (rows) and x of `x_axis` (columns), row by row:
    [len(y_axis) * len(x_axis), 2]."""
    ys, xs = torch.meshgrid(y_axis, x_axis, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


@dataclass(frozen=True)
class MapPlane:
    """The plane a latent space is drawn on: z = mean + [x, y] @ components."""

    mean: torch.Tensor  # [D]
    components: torch.Tensor  # [2, D], orthonormal rows

    @classmethod
    def fit(cls, mu: torch.Tensor) -> MapPlane:
        """The identity for mu: [N, 2]; the first two principal components of mu: [N, D] above that."""
        dim = mu.shape[1]
        if dim == 2:
            return cls(mean=torch.zeros(2), components=torch.eye(2))
        mean = mu.mean(dim=0)
        _, _, v_transposed = torch.linalg.svd(mu - mean, full_matrices=False)
        return cls(mean=mean, components=v_transposed[:2].contiguous())

    @property
    def is_identity(self) -> bool:
        return self.components.shape[1] == 2

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """z: [..., D] -> map coordinates [..., 2]."""
        return (z - self.mean) @ self.components.T

    def lift(self, xy: torch.Tensor) -> torch.Tensor:
        """map coordinates [B, 2] -> z: [B, D] on the plane."""
        return self.mean + xy @ self.components

    def project_sigma(self, sigma: torch.Tensor) -> torch.Tensor:
        """Standard deviation of q(z|x) along each map axis: [B, D] -> [B, 2]."""
        return (sigma.pow(2) @ self.components.pow(2).T).sqrt()


class LatentMap:
    """A loaded model's map of one data split: its posterior means and sigmas [N, D], their map points
    and per-axis sigmas [N, 2], the labels [N] and the coordinate limit."""

    def __init__(
        self, mu: torch.Tensor, sigma: torch.Tensor, labels: torch.Tensor, plane: MapPlane | None = None
    ) -> None:
        self.mu, self.sigma, self.labels = mu, sigma, labels
        self.plane = plane or MapPlane.fit(mu)
        self.xy = self.plane.project(mu)
        self.sigma_xy = self.plane.project_sigma(sigma)
        self.coordinate_limit = coordinate_limit(torch.cat([mu, self.xy], dim=1))
        self._mu_norms = mu.pow(2).sum(dim=1)  # [N], for nearest()

    @classmethod
    def build(
        cls,
        model: LoadedModel,
        images: ImageSet,
        batch_size: int = 2000,
        plane: MapPlane | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> LatentMap:
        """Encode every image of the split (in batches, converted to pixels batch by batch: a training
        split as floats would be ~190 MB) on `plane`, or on a plane fitted to their means. `on_batch`
        hears how many images are encoded after each batch (and may raise to stop)."""
        encoded, done = [], 0
        for batch in images.images.split(batch_size):
            encoded.append(model.encode(batch.float() / 255))
            done += len(batch)
            if on_batch is not None:
                on_batch(done)
        mu, sigma = (torch.cat(parts) for parts in zip(*encoded, strict=True))
        return cls(mu, sigma, images.labels, plane)

    def joined(self, other: LatentMap) -> LatentMap:
        """This map's points followed by `other`'s, on this map's plane."""
        return LatentMap(
            torch.cat([self.mu, other.mu]),
            torch.cat([self.sigma, other.sigma]),
            torch.cat([self.labels, other.labels]),
            self.plane,
        )

    def __len__(self) -> int:
        return int(self.mu.shape[0])

    @property
    def latent_dim(self) -> int:
        return int(self.mu.shape[1])

    def latents_of(self, points: list[list[float]]) -> torch.Tensor:
        """Points, each a full latent z [D] or a map point [x, y] (lifted through the plane) -> z [B, D].

        Plain lists until here: one tensor per batch rather than one per request (~30 us each)."""
        dim = self.latent_dim
        if all(len(point) == dim for point in points):
            return torch.tensor(points, dtype=torch.float32).reshape(len(points), dim)
        on_plane = torch.tensor([len(point) != dim for point in points])
        latents = torch.empty(len(points), dim)
        latents[on_plane] = self.plane.lift(torch.tensor([p for p in points if len(p) != dim]))
        if not on_plane.all():
            latents[~on_plane] = torch.tensor([p for p in points if len(p) == dim])
        return latents

    def locate(self, mu: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Where encodings sit on the map and the per-axis sigma of their ellipses:
        mu, sigma [B, D] -> (xy [B, 2], sigma_xy [B, 2])."""
        return self.plane.project(mu), self.plane.project_sigma(sigma)

    def nearest(self, mu: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k encodings of the split nearest (in latent space) to each row of mu:
        [B, D] -> (indices [B, k], distances [B, k]), nearest first."""
        # |t - m|^2 = |t|^2 - 2 t.m + |m|^2: one matrix product ranks every encoding (|m|^2 is the same for
        # a whole row). The k chosen distances are then computed directly, free of its cancellation.
        ranking = torch.addmm(self._mu_norms, mu, self.mu.T, alpha=-2)
        indices = ranking.topk(min(k, len(self)), dim=1, largest=False).indices
        distances = (self.mu[indices] - mu[:, None]).norm(dim=2)
        return indices, distances

    def typical(self, label: int) -> int:
        """The index of the class's most typical encoding: the one nearest its class's mean latent
        (ValueError when the split has no encoding of that label)."""
        members = (self.labels == label).nonzero().flatten()
        if len(members) == 0:
            raise ValueError(f"no test image has label {label}")
        centre = self.mu[members].mean(dim=0, keepdim=True)
        return int(members[(self.mu[members] - centre).pow(2).sum(dim=1).argmin()])

    def extent(self, axis: int) -> tuple[float, float]:
        """The encodings' padded range along map axis 0 (x) or 1 (y), within the coordinate limit."""
        low, high = padded_range(self.xy[:, axis])
        return max(low, -self.coordinate_limit), min(high, self.coordinate_limit)

    def grid_latents(self, x_axis: torch.Tensor, y_axis: torch.Tensor) -> torch.Tensor:
        """The latents of grid_points(x_axis, y_axis): [len(y_axis) * len(x_axis), D]."""
        return self.plane.lift(grid_points(x_axis, y_axis))

    def place(self, model: LoadedModel, images: torch.Tensor, k: int) -> Placement:
        """Encode images [B, C, H, W] onto this map: q(z|x), the map point and ellipse, the reconstruction
        (the decoded posterior mean) and the k nearest encodings of the split, in one pass of the encoder
        and one of the decoder."""
        mu, sigma = model.encode(images)
        xy, sigma_xy = self.locate(mu, sigma)
        indices, distances = self.nearest(mu, k)
        return Placement(
            mu=mu,
            sigma=sigma,
            xy=xy,
            sigma_xy=sigma_xy,
            reconstruction=model.decode(mu),
            neighbors=indices,
            distances=distances,
            neighbor_labels=self.labels[indices],
        )


@dataclass(frozen=True)
class Placement:
    """Images encoded onto a map, row by row: mu, sigma [B, D]; xy, sigma_xy [B, 2] (the ellipse's
    per-axis sigma on the map); reconstruction [B, C, H, W]; neighbors, distances, neighbor_labels [B, k]."""

    mu: torch.Tensor
    sigma: torch.Tensor
    xy: torch.Tensor
    sigma_xy: torch.Tensor
    reconstruction: torch.Tensor
    neighbors: torch.Tensor
    distances: torch.Tensor
    neighbor_labels: torch.Tensor

    def unbind(self) -> list[Placement]:
        """One Placement of a single row per image."""
        rows = range(self.mu.shape[0])
        return [
            Placement(**{name: value[row : row + 1] for name, value in vars(self).items()}) for row in rows
        ]
