"""The aggregate posterior against the prior: the log density ratio over the map and the prior's holes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PriorHole(BaseModel):
    """A region of the prior's disc where q(z) / p(z) is below hole_ratio."""

    x: float = Field(description="the map point in it where the prior's density is highest")
    y: float
    log_ratio: float = Field(description="log q(z) / p(z) there")
    prior_mass: float = Field(description="the prior's mass in the region (of 1)")


class PriorHoles(BaseModel):
    """log q(z) / p(z) on an n x n grid of the map, log_ratio[i][j] at (x[j], y[i]), q(z) the mean of the
    test images' posteriors; with the prior's holes over its whole disc, however the map is zoomed."""

    model_id: str
    x: list[float]
    y: list[float]
    log_ratio: list[list[float]] = Field(description="in nats, clipped to +-log_ratio_limit")
    log_ratio_limit: float
    holes: list[PriorHole] = Field(description="largest first; regions holding under 0.2% are left out")
    hole_mass: float = Field(description="the prior's mass in every hole together (of 1)")
    full_space_hole_mass: float = Field(
        description="the share of prior samples landing where q(z) / p(z) < hole_ratio in the whole latent "
        "space (4,000 seeded samples, q evaluated exactly): what a plane's projection can hide"
    )
    full_space_hole_mass_se: float = Field(description="its standard error")
    latent_dim: int
    hole_ratio: float = Field(description="a hole: q(z) / p(z) below this")
    prior_region: float = Field(description="holes are looked for in the prior's disc holding this mass")
    prior_centre: list[float] = Field(description="the disc's centre on the map: where z = 0 projects")
    prior_radius: float = Field(
        description="the disc's radius, in map units (the prior's standard deviations)"
    )
    images: int = Field(description="the test images whose posteriors make up q(z)")
    exact: bool = Field(
        description="true on a 2-D model; above that, the ratio of q's and p's projections onto the plane"
    )
