"""/api/models/{id}/estimators: the variance of the score-function and reparametrization gradient
estimators at S samples, measured on demand."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le, Len
from fastapi import APIRouter, Query

from app.deps import LabDep, ModelDep
from app.lab_state import ESTIMATOR_DIGITS, ESTIMATOR_REPETITIONS
from app.params import CommaSeparated
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.lab import EstimatorVariances
from model.estimators import MAX_SAMPLES

router = APIRouter(prefix="/api/models", tags=["lab"], responses=ERROR_RESPONSES)
MAX_SAMPLE_COUNTS = 6
SampleCounts = Annotated[
    tuple[Annotated[int, Ge(1), Le(MAX_SAMPLES)], ...], Len(1, MAX_SAMPLE_COUNTS), CommaSeparated
]


@router.get("/{model_id}/estimators")
async def estimators(
    lab: LabDep,
    served: ModelDep,
    samples: Annotated[
        SampleCounts, Query(description=f"1 to {MAX_SAMPLE_COUNTS} sample counts S, each 1..{MAX_SAMPLES}")
    ] = (1, 10, 100),
) -> EstimatorVariances:
    """How noisy each gradient estimator is at S samples: the reparametrization trick against the score
    function, on the first test images. Computed on demand (seconds), then cached."""
    variances = await lab.estimator_variances(served, samples)
    return EstimatorVariances(
        samples=list(samples),
        reparam_variance=variances["reparam"],
        score_variance=variances["score"],
        reparam_encoder_variance=variances["reparam_encoder"],
        score_encoder_variance=variances["score_encoder"],
        digits=ESTIMATOR_DIGITS,
        repetitions=ESTIMATOR_REPETITIONS,
    )
