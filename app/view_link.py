"""The link between a page and the Python that started its server (latent_atlas.explore()): each model's
view as its page last reported it, and the images Python asked the page to highlight. Read and written
in-process by the notebook's atlas; the page reaches it through /api/models/{id}/view and /highlight."""

from __future__ import annotations

from itertools import count

from fastapi import HTTPException

from app.schemas.view_link import Highlight, ViewReport
from app.served_model import ServedModel
from model.data import Split


class ViewLink:
    def __init__(self) -> None:
        self.reports: dict[str, ViewReport] = {}  # by model id
        self.highlights: dict[str, Highlight] = {}
        self._versions = count(1)

    def report(self, served: ServedModel, report: ViewReport) -> None:
        """Keep the page's view, once its positions are checked against its split's map."""
        size = served.size_of(report.split)  # never encoding a split on the event loop
        for name, positions in (("pins", report.pins), ("selection", report.selection)):
            wrong = [p for p in positions if not 0 <= p < size]
            if wrong:
                raise HTTPException(422, f"{name}: {wrong[0]} is not a point of the map (0..{size - 1})")
        self.reports[served.model_id] = report

    def highlight(self, served: ServedModel, split: Split, indices: list[int]) -> Highlight:
        """Ask the pages to mark images of a split (a 422 for an index the split does not have)."""
        size = served.size_of(split)
        wrong = [i for i in indices if not 0 <= i < size]
        if wrong:
            raise HTTPException(
                422, f"indices: {wrong[0]} is not an image of the {split} split (0..{size - 1})"
            )
        highlight = Highlight(split=split, indices=indices, version=next(self._versions))
        self.highlights[served.model_id] = highlight
        return highlight
