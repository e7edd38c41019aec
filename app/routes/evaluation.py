"""/api/models/{id}/evaluation: the lab's evaluation of a model, computed once and cached beside it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.deps import LabDep, ModelDep
from app.schemas.errors import ERROR_RESPONSES, NO_CLASSIFIER_RESPONSE
from app.schemas.lab import ModelEvaluation

router = APIRouter(prefix="/api/models", tags=["lab"], responses=ERROR_RESPONSES)
NOT_YET: dict[int | str, dict[str, Any]] = {
    204: {"description": "with compute=false: the model is not evaluated yet (and nothing was started)"}
}


@router.get(
    "/{model_id}/evaluation", responses={**NO_CLASSIFIER_RESPONSE, **NOT_YET}, response_model=ModelEvaluation
)
async def evaluation(
    lab: LabDep,
    served: ModelDep,
    compute: Annotated[
        bool, Query(description="false: answer 204 No Content rather than start a computation")
    ] = True,
) -> Any:
    """ELBO, the importance-weighted bound on log p(x) and its excess over the ELBO, KL per dimension,
    active units, FID-MNIST of prior samples and of reconstructions, and reconstruction accuracy. Read
    from the model's evaluation.json, or computed on first request (a minute or two on a CPU; `latent-atlas
    eval` precomputes it). Concurrent requests share one computation."""
    result = await lab.evaluation(served, compute=compute)
    if result is None:
        return Response(status_code=204)  # not an error: the page offers to compute it
    return ModelEvaluation(model_id=served.model_id, **result.as_dict())
