"""Points of a latent space and what they decode to: decoding, encoding an upload, interpolation
and traversals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from app.params import Coordinate
from model.data import Split
from model.traversal import EXTENT as TRAVERSAL_EXTENT
from model.traversal import STEPS as TRAVERSAL_STEPS

MAX_DECODE_POINTS = 1024
MIN_STEPS, MAX_STEPS = 2, 64


class DecodeRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"points": [[0.0, 0.0], [1.5, -0.5]]}]},
    )
    points: list[list[Coordinate]] = Field(
        min_length=1,
        max_length=MAX_DECODE_POINTS,
        description="map coordinates [x, y], or full latent vectors of length latent_dim",
    )


class Images(BaseModel):
    images: list[str] = Field(description="PNG data URLs in the data set's image shape")


class Neighbor(BaseModel):
    index: int
    label: int
    distance: float


class Typicality(BaseModel):
    """How typical an image is for the model: its log p(x) placed among the test images'."""

    log_px: float = Field(description="the importance-weighted bound on log p(x), as the test images' (nats)")
    percentile: float = Field(description="the share of test images with a lower log p(x), in percent")
    caveat: str = Field(description="why a likelihood is no proof that an image is in distribution")


class Encoding(BaseModel):
    input: str = Field(description="the preprocessed image, as the model saw it (PNG data URL)")
    mu: list[float] = Field(description="the posterior mean of q(z|x)")
    sigma: list[float] = Field(description="the posterior standard deviations of q(z|x)")
    map_xy: list[float] = Field(description="where mu sits on the map")
    map_sigma: list[float] = Field(
        description="q(z|x)'s standard deviation along the map's x and y axes (the ellipse's half-axes / 2)"
    )
    reconstruction: str = Field(description="the decoded posterior mean (PNG data URL)")
    neighbors: list[Neighbor] = Field(description="the nearest test images in latent space, nearest first")
    typicality: Typicality | None = Field(
        None, description="its log p(x) among the test images' (null until their per-point metrics exist)"
    )


ENDPOINT_KINDS = ("index", "z", "point", "image", "label")
MAX_VIA = 6  # ends between start and end: a path through 8 glyphs at most


class Endpoint(BaseModel):
    """A point in latent space (an interpolation's end, a traversal's centre): give exactly one of index,
    z, point, image or label."""

    index: StrictInt | None = Field(None, description="an image of `split`")
    split: Split = Field("test", description="the split `index` is in")
    z: list[Coordinate] | None = Field(None, description="a latent vector of length latent_dim")
    point: list[Coordinate] | None = Field(None, description="a map point [x, y], lifted through the plane")
    image: str | None = Field(None, description="a PNG or JPEG data URL, encoded to its mean")
    label: str | None = Field(
        None, description="a class name (e.g. '@'): the class's most typical test image, nearest its mean"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Endpoint:
        given = [name for name in ENDPOINT_KINDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of index, z, point, image or label (got {given or 'none'})")
        return self


MAX_TRAVERSAL_ROWS = 64


class TraversalRequest(BaseModel):
    """Which traversal grid to decode: around what, how many dimensions, how many steps, how far."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"centre": {"index": 3}, "steps": 9}, {}]})
    centre: Endpoint | None = Field(None, description="the point traversed around; none: the prior mean, 0")
    rows: int | None = Field(
        None,
        ge=1,
        le=MAX_TRAVERSAL_ROWS,
        strict=True,
        description=f"the highest-KL dimensions to show (default: all, up to {MAX_TRAVERSAL_ROWS})",
    )
    dims: list[StrictInt] | None = Field(
        None,
        min_length=1,
        max_length=MAX_TRAVERSAL_ROWS,
        description="these dimensions (0-based), in this order, instead of the highest-KL ones",
    )
    steps: int = Field(TRAVERSAL_STEPS, ge=MIN_STEPS, le=MAX_STEPS, strict=True, description="columns")
    extent: Coordinate = Field(
        TRAVERSAL_EXTENT, gt=0, le=10, description="prior standard deviations either side of the centre"
    )


class LatentDimension(BaseModel):
    """A latent dimension and how much the model uses it."""

    dim: int = Field(description="the latent dimension (0-based)")
    name: str = Field(
        description="how it is named: z1, z2, ...; a spatial latent's channel and position "
        "('channel 2 at (4, 5)')"
    )
    kl: float = Field(description="its mean KL(q(z_d|x) || N(0, 1)) over the test split, nats")
    activity: float = Field(description="Cov_x(E_q[z_d]) over the test split")
    active: bool = Field(description="activity > 0.01 (Burda et al.'s active units); false: a dead dimension")


class TraversedDimension(LatentDimension):
    """One row of a traversal: the dimension moved, how much it is used, and what it decodes to."""

    images: list[str] = Field(description="PNG data URLs, one per offset")


class LatentTraversal(BaseModel):
    """Traversals around `centre`: rows by decreasing KL, columns at centre + offset along the row's
    dimension."""

    centre: list[float]
    offsets: list[float]
    latent_dim: int
    active_units: int
    rows: list[TraversedDimension]


class InterpolateRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"start": {"index": 1}, "end": {"index": 0}, "steps": 10, "method": "linear"},
                {"start": {"label": "@"}, "via": [{"label": "9"}], "end": {"label": "a"}, "steps": 8},
            ]
        },
    )
    start: Endpoint
    via: list[Endpoint] = Field(
        default=[], max_length=MAX_VIA, description="ends to pass through, in order, between start and end"
    )
    end: Endpoint
    steps: int = Field(
        10, ge=MIN_STEPS, le=MAX_STEPS, strict=True, description="points per leg, ends included"
    )
    method: Literal["linear", "slerp"] = "linear"


class DecodedPoints(BaseModel):
    """Latent points with their map coordinates and decoded images (interpolations, prior samples)."""

    z: list[list[float]]
    map_xy: list[list[float]]
    images: list[str] = Field(description="PNG data URLs in the data set's image shape")


class Samples(DecodedPoints):
    """Decoded draws, with their source's Frechet distance to the test images."""

    frechet_distance: float | None = Field(
        description="the model's evaluation's FID of this source's samples (fid_prior or fid_aggregate) "
        "once the evaluation is computed (GET .../evaluation), at temperature 1; null otherwise"
    )
