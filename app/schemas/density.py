"""A map drawn as density: a large split's encoding, and what one view of it draws."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.progress import ComputationProgress
from model.data import MapSplit


class EncodingProgress(ComputationProgress):
    split: MapSplit


class Tile(BaseModel):
    zoom: int
    i: int = Field(description="the tile's column, from the left")
    j: int = Field(description="the tile's row, from the bottom")
    x: list[float] = Field(description="[x0, x1]: the region it covers")
    y: list[float] = Field(description="[y0, y1]")


class ViewPoints(BaseModel):
    x: list[float]
    y: list[float]
    label: list[int]
    position: list[int] = Field(description="each point's position on the map (as the map's points count)")


class MapView(BaseModel):
    count: int = Field(description="points inside the view")
    tiles: list[Tile] = Field(
        description="the density tiles that cover the view (none when points are drawn)"
    )
    points: ViewPoints | None = Field(
        description="the view's points, when it holds no more than the map's region_limit"
    )
