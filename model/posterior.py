"""The true posterior of a 2-D model, by quadrature: p(z|x) = p(x|z) p(z) / p(x), with the evidence
p(x) = integral of p(x|z) p(z) dz (tutorial Eq. 4) computed on a grid over the plane. In two dimensions
the "intractable" integral is a sum, so the gap of the ELBO, KL(q(z|x) || p(z|x)) = log p(x) - ELBO
(Eq. 10), can be measured rather than bounded.

The grid: a coarse one over a box holding the prior's range and q's region finds where p(x, z) has its
mass; a fine one over that region integrates it. The fine grid's nodes include every other node as a grid
of half the resolution, so the same decodes give the integral at both resolutions: their difference is
the convergence check, and the grid is refined until it is below the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from model.metrics import elbo_metrics, importance_weighted_log_likelihood
from model.vae import LatentModel, prior_log_prob

LogJoint = Callable[[torch.Tensor], torch.Tensor]  # z: [N, 2] -> log p(x, z): [N]
GridLogJoint = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # axes xs [nx], ys [ny] -> [ny, nx]
PRIOR_EXTENT = 6.0  # the prior's range: N(0, I) has ~e^-18 of its density left at 6 standard deviations
NEGLIGIBLE = 30.0  # nats below the peak: a region this far down holds no mass worth 0.01 nats
COARSE_NODES = 97  # per axis, over the search box
FINE_INTERVALS = 128  # per axis, over the region with mass (doubled until converged)
MAX_FINE_INTERVALS = 1024
TOLERANCE = 0.01  # nats: log p(x) at two resolutions agrees to this
CHUNK = 8192  # latent points decoded at once
KEPT_GRIDS = 4  # coarse grids whose decodes are kept for the next image (~30 MB each for 28x28 images)


@dataclass(frozen=True)
class Quadrature:
    """log p(x) on a grid, how well it converged, and p(z|x) on the grid (for contours)."""

    log_evidence: float  # log p(x), nats
    change: float  # |log p(x) at the final resolution - at half of it|, nats
    nodes: int  # latent points evaluated, coarse and fine
    x: torch.Tensor  # [nx] the grid's first coordinates
    y: torch.Tensor  # [ny] its second
    density: torch.Tensor  # [ny, nx] p(z|x) at the nodes, per unit area


def _grid(low: torch.Tensor, high: torch.Tensor, intervals: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Axes of (intervals + 1) nodes each from `low` to `high` ([2] each), float64."""
    steps = torch.linspace(0.0, 1.0, intervals + 1, dtype=torch.float64)
    return low[0] + steps * (high[0] - low[0]), low[1] + steps * (high[1] - low[1])


def _nodes(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """A grid's nodes as points, row by row (y outer, x inner): [ny * nx, 2]."""
    return torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1).reshape(-1, 2)


def pointwise(log_joint: LogJoint) -> GridLogJoint:
    """log p(x, z) on a grid from a function of points, evaluated in chunks: [ny, nx], float64."""

    def on_grid(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        values = torch.cat([log_joint(chunk.float()).double() for chunk in _nodes(xs, ys).split(CHUNK)])
        return values.reshape(len(ys), len(xs))

    return on_grid


class DecodedGrids:
    """log p(x|z) at the nodes of the grids quadrature asks for, with the coarse grids' decodes kept for
    the images after: the decoder's output does not depend on the image, and the searches of most images
    start from the same box (the prior's range), so over many images a coarse grid is decoded once rather
    than once each. A fine grid is one image's own: decoded a chunk at a time and never held whole (at
    1025 x 1025 nodes its decoder outputs would take gigabytes)."""

    def __init__(self, network: LatentModel, device: torch.device) -> None:
        self.network, self.device = network, device
        self._params: dict[tuple[float, ...], torch.Tensor] = {}  # a few coarse grids' [nodes, P*C*H*W]

    def log_likelihood(self, x: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """log p(x|z) at the grid's nodes, row by row: [ny * nx], float64 on the CPU."""
        nodes = _nodes(xs, ys).float().to(self.device)
        if len(nodes) > COARSE_NODES**2:
            chunks = nodes.split(CHUNK)
            return torch.cat([self._log_likelihood(self.network.decode(chunk), x) for chunk in chunks])
        key = (float(xs[0]), float(xs[-1]), len(xs), float(ys[0]), float(ys[-1]), len(ys))
        params = self._params.get(key)
        if params is None:
            params = torch.cat([self.network.decode(chunk) for chunk in nodes.split(CHUNK)])
            if len(self._params) >= KEPT_GRIDS:  # the oldest goes: a grown search box is one image's own
                self._params.pop(next(iter(self._params)))
            self._params[key] = params
        return self._log_likelihood(params, x)

    def _log_likelihood(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) of one image x [C*H*W] under decoded parameters [N, P*C*H*W]: [N] float64 (CPU)."""
        return self.network.likelihood.log_prob(params, x).double().cpu()


def _log_integral(values: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> float:
    """log of the trapezoid rule's integral of exp(values) over the grid."""
    wx = torch.full_like(xs, float(xs[1] - xs[0]))
    wy = torch.full_like(ys, float(ys[1] - ys[0]))
    wx[[0, -1]] /= 2
    wy[[0, -1]] /= 2
    log_weights = wy.log()[:, None] + wx.log()[None, :]
    return float(torch.logsumexp(values + log_weights, dim=(0, 1)))


def _region(values: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The box around the nodes within NEGLIGIBLE nats of the peak, one node wider on every side."""
    rows, columns = torch.nonzero(values > values.max() - NEGLIGIBLE, as_tuple=True)
    low = torch.stack([xs[max(int(columns.min()) - 1, 0)], ys[max(int(rows.min()) - 1, 0)]])
    high = torch.stack(
        [xs[min(int(columns.max()) + 1, len(xs) - 1)], ys[min(int(rows.max()) + 1, len(ys) - 1)]]
    )
    return low, high


def _search(
    log_joint: GridLogJoint, low: torch.Tensor, high: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The region holding the mass, found on coarse grids: a box whose edge still has mass grows on that
    side (up to 8 times its size). -> (low, high, nodes evaluated)."""
    nodes = 0
    for _ in range(4):
        xs, ys = _grid(low, high, COARSE_NODES - 1)
        coarse = log_joint(xs, ys)
        nodes += coarse.numel()
        if not torch.isfinite(coarse.max()):
            raise ValueError("log p(x, z) is not finite anywhere on the grid")
        region_low, region_high = _region(coarse, xs, ys)
        width = high - low
        grow_low, grow_high = region_low <= low, region_high >= high
        if not (grow_low.any() or grow_high.any()):
            break
        low = torch.where(grow_low, low - width / 2, low)
        high = torch.where(grow_high, high + width / 2, high)
    return region_low, region_high, nodes


def integrate(
    log_joint: GridLogJoint,
    low: torch.Tensor,
    high: torch.Tensor,
    *,
    include: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> Quadrature:
    """log p(x) = log of the integral of exp(log_joint(z)) over the plane, its mass searched for from the
    box [low, high] ([2] each); `include`, a box the fine grid must cover too (where q(z|x) samples)."""
    region_low, region_high, nodes = _search(log_joint, low.double(), high.double())
    if include is not None:
        region_low = torch.minimum(region_low, include[0].double())
        region_high = torch.maximum(region_high, include[1].double())
    intervals = FINE_INTERVALS
    while True:
        xs, ys = _grid(region_low, region_high, intervals)
        values = log_joint(xs, ys)
        nodes += values.numel()
        fine = _log_integral(values, xs, ys)
        half = _log_integral(values[::2, ::2], xs[::2], ys[::2])
        change = abs(fine - half)
        if change <= TOLERANCE or intervals >= MAX_FINE_INTERVALS:
            break
        intervals *= 2
    density = (values - fine).exp()
    return Quadrature(log_evidence=fine, change=change, nodes=nodes, x=xs, y=ys, density=density)


@torch.inference_mode()
def exact_posterior(network: LatentModel, x: torch.Tensor, grids: DecodedGrids | None = None) -> Quadrature:
    """p(z|x) and log p(x) of one image x: [C*H*W] in [0, 1] under a 2-D model (any likelihood).
    The search starts from the prior's range and where q(z|x) draws (its mean +- 4 standard deviations),
    which the fine grid covers too. `grids`: decodes shared with other images' quadratures."""
    if network.latent_dim != 2:
        raise ValueError(
            f"the exact posterior needs a 2-D latent space; this model's has {network.latent_dim}"
        )
    x = x.reshape(1, -1)
    posterior = network.encode(x)
    mu, sigma = posterior.mu[0].double().cpu(), posterior.sigma[0].double().cpu()
    extent = torch.full((2,), PRIOR_EXTENT, dtype=torch.float64)
    sampled = (mu - 4 * sigma, mu + 4 * sigma)  # where q(z|x) draws: the ELBO and IWAE look there
    decoded = grids or DecodedGrids(network, x.device)

    def log_joint(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        values = decoded.log_likelihood(x, xs, ys) + prior_log_prob(_nodes(xs, ys))  # float64, as the axes
        return values.reshape(len(ys), len(xs))

    return integrate(
        log_joint, torch.minimum(-extent, sampled[0]), torch.maximum(extent, sampled[1]), include=sampled
    )


def exact_posteriors(network: LatentModel, x: torch.Tensor) -> list[Quadrature]:
    """p(z|x) and log p(x) of each image x: [N, C*H*W] under a 2-D model, shared grids decoded once."""
    grids = DecodedGrids(network, x.device)
    return [exact_posterior(network, image, grids) for image in x]


def exact_log_likelihoods(network: LatentModel, x: torch.Tensor) -> torch.Tensor:
    """log p(x) of each image x: [N, C*H*W] under a 2-D model, by quadrature: [N] float64, nats."""
    return torch.tensor([found.log_evidence for found in exact_posteriors(network, x)], dtype=torch.float64)


@dataclass(frozen=True)
class EvidenceAndBounds:
    """For one image: log p(x) exactly (by quadrature) beside the ELBO and the IWAE bound, in nats."""

    quadrature: Quadrature
    elbo: float  # E_q[log p(x|z)] - KL(q(z|x) || p(z)), `samples` draws
    samples: int
    iwae: float  # the k-sample importance-weighted bound
    iwae_k: int
    mu: torch.Tensor  # [2] q(z|x)'s mean
    sigma: torch.Tensor  # [2] its standard deviations

    @property
    def gap(self) -> float:
        """KL(q(z|x) || p(z|x)) = log p(x) - ELBO (tutorial Eq. 10): exact up to the ELBO's sampling."""
        return self.quadrature.log_evidence - self.elbo


def evidence_and_bounds(
    network: LatentModel, x: torch.Tensor, *, iwae_k: int, samples: int = 1000, seed: int = 0
) -> EvidenceAndBounds:
    """log p(x), the ELBO and the IWAE bound of one image x: [C*H*W] under a 2-D model (seeded)."""
    quadrature = exact_posterior(network, x)
    batch = x.reshape(1, -1)
    with torch.inference_mode():
        posterior = network.encode(batch)
    return EvidenceAndBounds(
        quadrature=quadrature,
        elbo=-elbo_metrics(network, batch, samples=samples, seed=seed).neg_elbo,
        samples=samples,
        iwae=importance_weighted_log_likelihood(network, batch, k=iwae_k, seed=seed),
        iwae_k=iwae_k,
        mu=posterior.mu[0].cpu(),
        sigma=posterior.sigma[0].cpu(),
    )
