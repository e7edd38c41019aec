"""/api/models/{id}/evaluation: the lab's evaluation of a model, computed once and cached beside it, its
progress as Server-Sent Events, and its cancellation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from app.deps import LabDep, ModelDep
from app.job_events import STREAM_HEADERS, EventStream
from app.schemas.errors import ERROR_RESPONSES, NO_CLASSIFIER_RESPONSE, before_a_stream
from app.schemas.lab import EvaluationProgressEvent, ModelEvaluation

router = APIRouter(prefix="/api/models", tags=["lab"], responses=ERROR_RESPONSES)
NOT_YET: dict[int | str, dict[str, Any]] = {
    204: {
        "description": "with compute=false: the model is not evaluated yet (and nothing was started), or its "
        "data set has no classifier to evaluate it with (compute=true says why)"
    }
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


@router.delete("/{model_id}/evaluation", status_code=204)
async def cancel_evaluation(lab: LabDep, served: ModelDep) -> Response:
    """Stop the model's running evaluation at its next batch (its waiting requests answer 409); 409 when
    none is running."""
    if not lab.cancel(served.model_id):
        raise HTTPException(409, f"no evaluation of {served.model_id} is running")
    return Response(status_code=204)


@router.get(
    "/{model_id}/evaluation/progress",
    response_class=EventStream,
    responses={
        **before_a_stream(ERROR_RESPONSES),
        200: {"model": EvaluationProgressEvent, "description": "one event's data, for each event"},
    },
)
async def evaluation_progress(lab: LabDep, served: ModelDep) -> Response:
    """The running evaluation's progress as Server-Sent Events: `progress` (its stage and the fraction of
    the whole done) twice a second, then `ended` when it is done, stopped or failed (at once if none runs;
    fraction 1 when an evaluation of the model is known)."""
    return StreamingResponse(
        lab.progress_events(served.model_id), media_type=EventStream.media_type, headers=STREAM_HEADERS
    )
