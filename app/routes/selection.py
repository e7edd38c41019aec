"""/api/models/{id}/selection: a lasso or box selection of the map summarised, and exported as CSV."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.deps import ModelDep
from app.downloads import attachment
from app.images import png_data_urls
from app.schemas import ERROR_RESPONSES, SelectionRequest, SelectionSummary
from model.selection import select, selection_csv

router = APIRouter(prefix="/api/models", tags=["selection"], responses=ERROR_RESPONSES)


@router.post("/{model_id}/selection")
async def summarise(served: ModelDep, request: SelectionRequest) -> SelectionSummary:
    """How many test images the selection holds, how many of each class, and its mean encoding (on the
    map and decoded)."""
    try:
        chosen = select(served.latent_map, request.indices, len(served.dataset.info.class_names))
    except ValueError as error:
        raise HTTPException(404, str(error)) from error
    return SelectionSummary(
        count=len(chosen.indices),
        class_counts=chosen.class_counts,
        mean_z=chosen.mean_z.tolist(),
        mean_map_xy=served.latent_map.plane.project(chosen.mean_z).tolist(),
        mean_image=png_data_urls(served.loaded.decode(chosen.mean_z[None]))[0],
    )


@router.post(
    "/{model_id}/selection.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}}
)
async def export_csv(served: ModelDep, request: SelectionRequest) -> Response:
    """The selection as CSV: index, split, label, map x, y and the full z (q's mean), one row per member."""
    try:
        body = selection_csv(served.latent_map, request.indices, served.dataset.info.class_names)
    except ValueError as error:
        raise HTTPException(404, str(error)) from error
    return attachment(body, "text/csv", f"{served.model_id}-selection.csv")
