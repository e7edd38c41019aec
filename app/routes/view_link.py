"""/api/models/{id}/view and /highlight: the explorer says what it shows (the selection, pins, the point
under the cursor), which `latent_atlas.explore()`'s atlas reads from Python, and the points Python asks it
to highlight."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.deps import ModelDep, ViewLinkDep
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.view_link import Highlight, HighlightRequest, ViewReport

router = APIRouter(prefix="/api/models", tags=["view link"], responses=ERROR_RESPONSES)


@router.put("/{model_id}/view", status_code=204)
async def report_view(served: ModelDep, report: ViewReport, link: ViewLinkDep) -> Response:
    """The page's view of the model, as it changes (the explorer sends it when a notebook frames it)."""
    link.report(served, report)
    return Response(status_code=204)


@router.get("/{model_id}/view")
async def reported_view(served: ModelDep, link: ViewLinkDep) -> ViewReport:
    """The view the page last reported (404 before any)."""
    report = link.reports.get(served.model_id)
    if report is None:
        raise HTTPException(404, f"no page has reported its view of {served.model_id} yet")
    return report


@router.put("/{model_id}/highlight")
async def set_highlight(served: ModelDep, highlight: HighlightRequest, link: ViewLinkDep) -> Highlight:
    """Mark images on the pages showing the model (an empty list clears them)."""
    return link.highlight(served, highlight.split, highlight.indices)


@router.get("/{model_id}/highlight")
async def get_highlight(served: ModelDep, link: ViewLinkDep) -> Highlight:
    """The images to mark, with a version that changes with them."""
    return link.highlights.get(served.model_id, Highlight(indices=[], version=0))
