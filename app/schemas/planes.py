"""The nonlinear map planes: where one stands, and latents placed on one or map points lifted from it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.params import Coordinate
from app.schemas.latents import MAX_DECODE_POINTS
from app.schemas.progress import ComputationProgress
from model.data import MapSplit
from model.planes import NonlinearMethod


class PlaneProgress(ComputationProgress):
    method: NonlinearMethod
    split: MapSplit


class PlaneLatents(BaseModel):
    z: list[list[Coordinate]] = Field(
        min_length=1, max_length=MAX_DECODE_POINTS, description="latent vectors of length latent_dim"
    )


class PlacedPoints(BaseModel):
    map_xy: list[list[float]] = Field(
        description="each latent's place on the plane, by the method's transform"
    )


class PlanePoints(BaseModel):
    points: list[list[Coordinate]] = Field(
        min_length=1, max_length=MAX_DECODE_POINTS, description="map points [x, y] of the plane"
    )


class LiftedPoints(BaseModel):
    z: list[list[float]] = Field(
        description="each point's estimated latent: the latents of the encodings nearest it on the plane, "
        "weighted by 1 / distance^2"
    )
    nearest: list[float] = Field(description="each point's distance on the plane to the nearest encoding")
    how: str = Field(description="how a map point of this plane becomes a latent, in words")
