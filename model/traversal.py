"""Latent traversals: what each latent dimension does. One row per dimension, ordered by how much the
dimension carries (its mean KL(q(z_d|x) || p(z_d)) over the test split), each moving that one coordinate
from -3 to +3 prior standard deviations around a centre (an encoding, or the prior's mean) while the others
stay put. A dimension the encoder does not use (an inactive unit: Cov_x(E_q[z_d]) <= 0.01, Burda et al.)
is marked: its row decodes to (nearly) the same image across, which is the point of showing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.metrics import ACTIVE_UNIT_THRESHOLD
from model.vae import DiagonalGaussian

EXTENT = 3.0  # prior standard deviations either side of the centre
STEPS = 9  # columns, the centre included when odd


@dataclass(frozen=True)
class DimensionUse:
    """How a latent space's dimensions are used over a data split, each [D]."""

    kl: torch.Tensor  # mean KL(q(z_d|x) || N(0, 1)) in nats
    activity: torch.Tensor  # Cov_x(E_q[z_d]): how much the posterior mean moves between images
    active: torch.Tensor  # bool: activity above the threshold

    @classmethod
    def of(cls, mu: torch.Tensor, sigma: torch.Tensor) -> DimensionUse:
        """From the split's posterior means and standard deviations, mu, sigma: [N, D] (N >= 2)."""
        if mu.shape[0] < 2:
            raise ValueError(f"dimension use needs at least 2 encodings, got {mu.shape[0]}")
        kl = DiagonalGaussian(mu, 2 * sigma.log()).kl_per_dim().mean(dim=0)
        activity = mu.var(dim=0, correction=0)
        return cls(kl=kl, activity=activity, active=activity > ACTIVE_UNIT_THRESHOLD)

    def order(self) -> list[int]:
        """The dimensions, most informative (highest KL) first."""
        return self.kl.argsort(descending=True, stable=True).tolist()


def dimension_name(dim: int, latent_shape: tuple[int, ...]) -> str:
    """How a dimension of the flattened latent is named: z1, z2, ... for a vector; its channel and position
    for a spatial latent ("channel 2 at (4, 5)": row 4, column 5 of channel 2, counted from 0 as the
    tensor's indices are)."""
    if len(latent_shape) != 3:
        return f"z{dim + 1}"
    _, height, width = latent_shape
    channel, position = divmod(dim, height * width)
    row, column = divmod(position, width)
    return f"channel {channel} at ({row}, {column})"


@dataclass(frozen=True)
class Traversal:
    """The latents of a traversal grid: row r moves dimension dims[r] by each offset in turn."""

    dims: list[int]  # one per row, highest KL first
    offsets: torch.Tensor  # [S] added to the centre's coordinate
    latents: torch.Tensor  # [R * S, D], row by row


def traverse(
    centre: torch.Tensor,
    use: DimensionUse,
    *,
    rows: int | None = None,
    dims: list[int] | None = None,
    steps: int = STEPS,
    extent: float = EXTENT,
) -> Traversal:
    """Traversal latents around `centre` ([D]): the given `dims` in order, else the `rows` highest-KL
    dimensions (all by default), each moved through `steps` evenly spaced offsets from -extent to +extent."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if extent <= 0:
        raise ValueError(f"extent must be > 0, got {extent}")
    if dims is not None and not all(0 <= dim < len(centre) for dim in dims):
        raise ValueError(f"dims must be in 0..{len(centre) - 1}, got {dims}")
    dims = use.order()[:rows] if dims is None else dims
    offsets = torch.linspace(-extent, extent, steps)
    latents = centre.reshape(1, 1, -1).repeat(len(dims), steps, 1)
    for row, dim in enumerate(dims):
        latents[row, :, dim] += offsets
    return Traversal(dims=dims, offsets=offsets, latents=latents.reshape(len(dims) * steps, -1))
