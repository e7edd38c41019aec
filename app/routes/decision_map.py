"""/api/models/{id}/decision-map: which class the classifier reads in the decoded image over the map."""

from __future__ import annotations

from typing import Annotated

import torch
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from app.deps import LabDep, ModelDep, ShownPlaneDep
from app.params import Range
from app.plane_state import ShownPlane
from app.schemas.errors import ERROR_RESPONSES, NO_CLASSIFIER_RESPONSE
from app.schemas.lab import DecisionMap
from app.served_model import ServedModel
from model.classifier import LoadedClassifier, classify

router = APIRouter(prefix="/api/models", tags=["lab"], responses=ERROR_RESPONSES)
MAX_GRID = 64


def _decision_map(
    served: ServedModel, shown: ShownPlane, classifier: LoadedClassifier, x: torch.Tensor, y: torch.Tensor
) -> DecisionMap:
    loaded = served.loaded
    decoded = loaded.decode(shown.grid_latents(x, y)).to(loaded.device)
    labels, confidence = classify(classifier.network, decoded)
    shape = (len(y), len(x))
    return DecisionMap(
        model_id=served.model_id,
        x=x.tolist(),
        y=y.tolist(),
        label=labels.reshape(shape).tolist(),
        confidence=confidence.reshape(shape).round(decimals=3).tolist(),
    )


@router.get("/{model_id}/decision-map", responses=NO_CLASSIFIER_RESPONSE)
async def decision_map(
    lab: LabDep,
    served: ModelDep,
    shown: ShownPlaneDep,
    n: Annotated[int, Query(ge=2, le=MAX_GRID)] = 40,
    x_range: Annotated[
        Range | None, Query(description="'low,high' (default: the test images' extent)")
    ] = None,
    y_range: Annotated[Range | None, Query(description="'low,high'")] = None,
) -> DecisionMap:
    """Which class the classifier reads in the decoded image at each point of an n x n grid over the map:
    the regions of the latent space that decode to each class."""
    classifier = lab.require_classifier(served)
    x_low, x_high = shown.check_range(x_range, "x_range") if x_range else shown.extent(0)
    y_low, y_high = shown.check_range(y_range, "y_range") if y_range else shown.extent(1)
    x, y = torch.linspace(x_low, x_high, n), torch.linspace(y_low, y_high, n)
    return await run_in_threadpool(_decision_map, served, shown, classifier, x, y)
