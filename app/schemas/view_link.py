"""What a page shows, as it reports it to its server (for a notebook to read), and the points a notebook
asks the page to highlight."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from app.limits import MAX_POINTS
from app.params import Coordinate
from app.schemas.selection import POSITIONS
from model.data import MapSplit, Split
from model.planes import PlaneMethod


class ViewReport(BaseModel):
    """The explorer's view of one model: the split and plane shown, its pins and selection (positions on
    that split's map) and the map point under the cursor."""

    split: MapSplit = "test"
    plane: PlaneMethod = "pca"
    pins: list[StrictInt] = Field(default_factory=list, max_length=MAX_POINTS, description=POSITIONS)
    selection: list[StrictInt] = Field(default_factory=list, max_length=MAX_POINTS, description=POSITIONS)
    hovered: list[Coordinate] | None = Field(
        None, min_length=2, max_length=2, description="the map point under the cursor, [x, y], or null"
    )


class HighlightRequest(BaseModel):
    """Points a notebook asks the page to mark: images of a split, by index."""

    split: Split = "test"
    indices: list[StrictInt] = Field(max_length=MAX_POINTS, description="indices of images of `split`")


class Highlight(HighlightRequest):
    version: int = Field(
        description="raised by each new highlight (0: none yet), so a page redraws on change"
    )
