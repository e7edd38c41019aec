"""/api/datasets: the data sets prepared in the home, and their original images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from app.deps import RegistryDep
from app.images import png_bytes
from app.responses import dataset_summary
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.models import DatasetSummary
from model.data import Split

router = APIRouter(prefix="/api/datasets", tags=["data"], responses=ERROR_RESPONSES)


@router.get("")
async def list_datasets(registry: RegistryDep) -> list[DatasetSummary]:
    """The data sets prepared in the home: the served models' and any other a job can train on."""
    return [dataset_summary(dataset) for dataset in registry.datasets.values()]


@router.get(
    "/{key}/{split}/{index}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
async def image_png(
    registry: RegistryDep, key: str, split: Split, index: Annotated[int, Path(ge=0)]
) -> Response:
    """One original image of a data set as a PNG (grayscale or colour)."""
    dataset = registry.datasets.get(key)
    if dataset is None:
        served = ", ".join(registry.datasets) or "none"
        raise HTTPException(404, f"no data set {key!r} is served; served: {served}")
    images = dataset.split(split)
    if index >= len(images):
        raise HTTPException(
            404, f"no {split} image {index}: the {split} split has {len(images)} (0..{len(images) - 1})"
        )
    return Response(
        png_bytes(images.images[index] / 255),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
