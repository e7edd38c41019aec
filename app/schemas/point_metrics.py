"""Per-point metrics: how far their computation is, and their values for every point of a map."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.progress import ComputationProgress
from model.data import MapSplit


class PointMetricsProgress(ComputationProgress):
    split: MapSplit


class PointMetric(BaseModel):
    name: str
    title: str
    description: str


class PointMetricValues(BaseModel):
    model_id: str
    split: MapSplit
    k: int = Field(description="importance samples behind each image's log p(x)")
    metrics: list[PointMetric] = Field(description="what each metric is, in the order the pages show them")
    values: dict[str, list[float]] = Field(
        description="metric name -> one value per point of the split's map (in nats), in the map's order"
    )
