"""The aggregate posterior q(z) = (1/N) sum_n q(z|x_n) against the prior p(z) = N(0, I): its density ratio
over the map, the prior's holes (where the prior has mass and no image encodes, so prior samples decode
to what no image looks like), and draws from q(z) to set beside draws from p(z).

On the map's plane z = mean + [x, y] @ C (C: [2, D], orthonormal rows) both are compared as projections:
q(z|x_n) = N(mu_n, diag(sigma_n^2)) projects to N((mu_n - mean) C^T, C diag(sigma_n^2) C^T), a 2-D Gaussian,
and p(z) to N(-mean C^T, C C^T = I). So the ratio is exact for a 2-D model (C = I, mean = 0) and exact for
the projections above that: the marginals of q(z) and p(z) on the plane, not their values at the plane's
points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from model.data import ImageSet
from model.latent_health import EXPANDED_SCALE, squared_distances
from model.latent_map import MapPlane, grid_points
from model.vae import LatentModel

HOLE_RATIO = 0.1  # a hole: q(z) / p(z) below this, the prior putting 10 times the images' mass there
PRIOR_REGION = 0.95  # holes are looked for where the prior has mass: its disc holding 95% of it
HOLE_GRID = 64  # cells per side of the grid over that disc on which holes are found (spacing ~0.08)
MIN_HOLE_MASS = 0.002  # holes holding less of the prior's mass are not listed (they are grid noise)
MIN_VARIANCE = 1e-30  # a posterior narrower than this (reconstruction-only training) is measured as this wide
PRIOR_DRAWS = 4000  # prior samples behind the full space's hole mass: a standard error under 0.8%
ROWS = 256  # grid points evaluated against every posterior at a time (~20 MB per 10,000 posteriors)
DRAW_BATCH = 1000  # images encoded at a time for draws from q(z)
LOG_2PI = math.log(2 * math.pi)


def region_radius(mass: float = PRIOR_REGION) -> float:
    """The radius of the disc around a 2-D standard normal's mean that holds `mass` of it."""
    return math.sqrt(-2 * math.log1p(-mass))  # P(|z| > r) = exp(-r^2 / 2) in 2-D


@torch.inference_mode()
def log_densities(
    points: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, plane: MapPlane
) -> tuple[torch.Tensor, torch.Tensor]:
    """log q(z) and log p(z) on the plane at map points [G, 2], q(z) the mixture of the posteriors
    N(mu, diag(sigma^2)), mu and sigma [N, D]: two [G] tensors in double precision."""
    if mu.ndim != 2 or mu.shape != sigma.shape or mu.shape[1] != plane.components.shape[1]:
        raise ValueError(
            f"need mu and sigma [N, {plane.components.shape[1]}] for the plane, "
            f"got {list(mu.shape)} and {list(sigma.shape)}"
        )
    components = plane.components.double()
    points = points.double()
    means = (mu.double() - plane.mean.double()) @ components.T  # [N, 2]
    variance = sigma.double().pow(2).clamp(min=MIN_VARIANCE)  # [N, D]
    a = variance @ components[0].pow(2)  # the projected covariances [[a, b], [b, c]]: [N] each
    b = variance @ (components[0] * components[1])
    c = variance @ components[1].pow(2)
    # Round-off can leave a near-degenerate projection with ac - b^2 <= 0 (a narrow posterior above 2-D).
    det = torch.maximum(a * c - b.pow(2), a * c * 1e-12)
    log_norm = -0.5 * det.log() - LOG_2PI - math.log(len(mu))  # each component's, weighted 1/N
    p11, p12, p22 = c / det, -b / det, a / det  # the projected precisions
    mx, my = means[:, 0], means[:, 1]
    # Expanded in the coordinates, the exponent of every component at every point is one matrix product of
    # [X^2, XY, Y^2, X, Y, 1] with six coefficients per component (fast). In double precision its rounding
    # stays below 1e-3 nats while precision * (|point| + |mean|)^2 stays below EXPANDED_SCALE; narrower
    # posteriors (a reconstruction-only model's) are evaluated by differences instead.
    reach = float(points.abs().max()) + means.abs().max(dim=1).values
    wide = (p11 + p22 + 2 * p12.abs()) * reach.pow(2) < EXPANDED_SCALE
    coefficients = torch.stack(
        [
            -0.5 * p11,
            -p12,
            -0.5 * p22,
            p11 * mx + p12 * my,
            p12 * mx + p22 * my,
            log_norm - 0.5 * (p11 * mx.pow(2) + 2 * p12 * mx * my + p22 * my.pow(2)),
        ]
    )[:, wide]  # [6, wide components]
    narrow = ~wide

    def exponents(rows: torch.Tensor) -> torch.Tensor:
        """log (1/N) N(row; mean_n, S_n) for every component: [R, N] (wide ones first)."""
        x, y = rows[:, 0:1], rows[:, 1:2]
        expanded = torch.cat([x.pow(2), x * y, y.pow(2), x, y, torch.ones_like(x)], dim=1) @ coefficients
        dx, dy = x - mx[narrow], y - my[narrow]
        direct = log_norm[narrow] - 0.5 * (
            p11[narrow] * dx.pow(2) + 2 * p12[narrow] * dx * dy + p22[narrow] * dy.pow(2)
        )
        return torch.cat([expanded, direct], dim=1)

    log_q = torch.cat([torch.logsumexp(exponents(rows), dim=1) for rows in points.split(ROWS)])
    prior_centre = plane.project(torch.zeros_like(plane.mean)).double()
    log_p = -0.5 * (points - prior_centre).pow(2).sum(dim=1) - LOG_2PI
    return log_q, log_p


@dataclass(frozen=True)
class Hole:
    """A connected region of the prior's disc where q(z) / p(z) < HOLE_RATIO: the map point in it where the
    prior's density is highest (where prior samples land in it most), the log ratio there, and the prior's
    mass in the region."""

    x: float
    y: float
    log_ratio: float
    prior_mass: float


@dataclass(frozen=True)
class PriorHoles:
    """The holes holding at least MIN_HOLE_MASS, largest first, and the prior mass of all holes together."""

    holes: list[Hole]
    hole_mass: float


def _regions(inside: list[list[bool]]) -> list[list[tuple[int, int]]]:
    """The 4-connected regions of True cells of a grid, as (row, column) lists."""
    rows, columns = len(inside), len(inside[0])
    seen = [[False] * columns for _ in range(rows)]
    regions = []
    for i in range(rows):
        for j in range(columns):
            if not inside[i][j] or seen[i][j]:
                continue
            seen[i][j], stack, region = True, [(i, j)], []
            while stack:
                r, s = stack.pop()
                region.append((r, s))
                for nr, ns in ((r + 1, s), (r - 1, s), (r, s + 1), (r, s - 1)):
                    if 0 <= nr < rows and 0 <= ns < columns and inside[nr][ns] and not seen[nr][ns]:
                        seen[nr][ns] = True
                        stack.append((nr, ns))
            regions.append(region)
    return regions


@torch.inference_mode()
def find_holes(mu: torch.Tensor, sigma: torch.Tensor, plane: MapPlane, n: int = HOLE_GRID) -> PriorHoles:
    """The prior's holes in the disc holding PRIOR_REGION of its mass on the plane, found on an n x n grid
    of cells over the disc (each cell's prior mass by the midpoint rule)."""
    radius = region_radius()
    centre = plane.project(torch.zeros_like(plane.mean)).double()
    offsets = -radius + 2 * radius * (torch.arange(n, dtype=torch.float64) + 0.5) / n
    points = grid_points(centre[0] + offsets, centre[1] + offsets)  # row i is offsets[i] along y
    log_q, log_p = log_densities(points, mu, sigma, plane)
    cell_mass = (log_p.exp() * (2 * radius / n) ** 2).reshape(n, n)
    in_disc = ((points - centre).pow(2).sum(dim=1) <= radius**2).reshape(n, n)
    log_ratio = (log_q - log_p).reshape(n, n)
    hollow = (in_disc & (log_ratio < math.log(HOLE_RATIO))).tolist()
    holes = []
    for region in _regions(hollow):
        cells = torch.tensor(region)
        masses = cell_mass[cells[:, 0], cells[:, 1]]
        mass = float(masses.sum())
        if mass < MIN_HOLE_MASS:
            continue
        i, j = region[int(masses.argmax())]
        point = points[i * n + j]
        holes.append(Hole(float(point[0]), float(point[1]), float(log_ratio[i, j]), mass))
    hole_mass = float(cell_mass[torch.tensor(hollow, dtype=torch.bool)].sum())
    return PriorHoles(sorted(holes, key=lambda hole: -hole.prior_mass), hole_mass)


@dataclass(frozen=True)
class FullSpaceHoles:
    """The share of prior samples z ~ p(z) that land where q(z) / p(z) < HOLE_RATIO in the whole latent
    space (not a plane's projection), with its standard error."""

    prior_mass: float
    standard_error: float


@torch.inference_mode()
def holes_in_full_space(
    mu: torch.Tensor, sigma: torch.Tensor, *, draws: int = PRIOR_DRAWS, seed: int = 0
) -> FullSpaceHoles:
    """The prior's mass in holes of the whole latent space, by Monte Carlo: q(z) (the mixture of the
    posteriors N(mu, diag(sigma^2)), mu and sigma [N, D]) evaluated exactly at `draws` seeded prior samples.
    Above two dimensions a plane's projection can hide a hole this finds."""
    n, d = mu.shape
    mu = mu.double()
    logvar = 2 * sigma.double().clamp(min=MIN_VARIANCE**0.5).log()
    precision = torch.exp(-logvar)
    z = torch.randn((draws, d), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    reach = float(z.abs().max()) + mu.abs()
    expanded = float((precision * reach.pow(2)).sum(dim=1).max()) < EXPANDED_SCALE
    constant = logvar.sum(dim=1) + d * LOG_2PI  # [N]
    log_q = torch.cat(
        [
            torch.logsumexp(-0.5 * (squared_distances(rows, mu, precision, expanded) + constant), dim=1)
            for rows in z.split(ROWS)
        ]
    ) - math.log(n)
    log_p = -0.5 * (z.pow(2).sum(dim=1) + d * LOG_2PI)
    share = float((log_q - log_p < math.log(HOLE_RATIO)).double().mean())
    return FullSpaceHoles(share, math.sqrt(share * (1 - share) / draws))


@torch.inference_mode()
def aggregate_draws(
    network: LatentModel, images: ImageSet, n: int, generator: torch.Generator
) -> torch.Tensor:
    """n draws from the aggregate posterior of `images` under the network's encoder: an image picked
    uniformly (with replacement), then z ~ q(z|x) of it: [n, D] on the network's device."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    device = next(network.parameters()).device
    picked = torch.randint(len(images), (n,), generator=generator)
    eps = torch.randn((n, network.latent_dim), generator=generator)
    x = ImageSet(images.images[picked], images.labels[picked]).pixels(device)
    return torch.cat(
        [
            network.encode(batch).reparametrise(noise.to(device))
            for batch, noise in zip(x.split(DRAW_BATCH), eps.split(DRAW_BATCH), strict=True)
        ]
    )
