"""Selections of a map's points, and latent arithmetic between groups of them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from app.limits import MAX_POINTS
from app.params import Coordinate
from app.schemas.latents import MAX_STEPS, MIN_STEPS, DecodedPoints, Endpoint
from model.data import MapSplit

POSITIONS = "points of the map of `split` (for all: the test images, then the training images)"


class SelectionRequest(BaseModel):
    """Points of a map chosen by a lasso or a box: their positions on the map of a split."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"indices": [0, 3, 7], "split": "test"}]})
    indices: list[StrictInt] = Field(min_length=1, max_length=MAX_POINTS, description=POSITIONS)
    split: MapSplit = "test"


MAX_POLYGON_VERTICES = 4096  # a lasso drawn slowly across the whole map
MAX_CLASSES = 10_000  # of a list of classes: more than any data set has
Vertex = Annotated[list[Coordinate], Field(min_length=2, max_length=2, description="[x, y]")]


class RegionRequest(BaseModel):
    """A box or lasso drawn where the page lists no points (a map drawn as density): its vertices."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"polygon": [[-1, -1], [1, -1], [1, 1], [-1, 1]], "split": "train"}]}
    )
    polygon: list[Vertex] = Field(
        min_length=3,
        max_length=MAX_POLYGON_VERTICES,
        description="its vertices [x, y] on the map's exact plane (PCA above two dimensions), in order",
    )
    split: MapSplit = "test"
    labels: list[StrictInt] | None = Field(
        None, max_length=MAX_CLASSES, description="only points of these classes (those the page shows)"
    )


class RegionMembers(BaseModel):
    count: int = Field(description="points of the map inside the polygon")
    indices: list[int] = Field(description=f"their positions: {POSITIONS}; a selection of them as any other")


class SelectionSummary(BaseModel):
    """What a selection holds: its size, its classes, and its mean encoding decoded."""

    count: int = Field(description="distinct images selected")
    class_counts: list[int] = Field(description="members per class, in the data set's class order")
    mean_z: list[float] = Field(description="the members' mean posterior mean")
    mean_map_xy: list[float] = Field(description="where that mean sits on the map")
    mean_image: str = Field(description="the mean encoding decoded, a PNG data URL")


class Group(BaseModel):
    """A set of test images: a class, or a selection (indices). Give exactly one."""

    label: str | None = Field(None, description="a class name: every test image of that class")
    indices: list[StrictInt] | None = Field(
        None, min_length=1, max_length=MAX_POINTS, description=f"{POSITIONS}, e.g. a lasso's"
    )
    split: MapSplit = "test"

    @model_validator(mode="after")
    def _exactly_one(self) -> Group:
        if (self.label is None) == (self.indices is None):
            raise ValueError("give exactly one of label or indices")
        return self


class ArithmeticRequest(BaseModel):
    """Add the attribute vector mean(a) - mean(b), scaled from 0 to `strength`, to the encoding `to`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"a": {"label": "1"}, "b": {"label": "0"}, "to": {"label": "0"}, "strength": 1}]
        }
    )
    a: Group
    b: Group
    to: Endpoint
    strength: Coordinate = Field(1.0, ge=-5, le=5, description="the last step's multiple of the vector")
    steps: int = Field(7, ge=MIN_STEPS, le=MAX_STEPS, strict=True, description="points from 0 to strength")


class LatentArithmetic(DecodedPoints):
    """The strip to + s (mean(a) - mean(b)) for s from 0 to the strength, and the vector itself."""

    strengths: list[float]
    vector: list[float] = Field(description="mean(a) - mean(b), the attribute vector")
    norm: float = Field(description="its length")
    a_count: int = Field(description="members of group a")
    b_count: int = Field(description="members of group b")
