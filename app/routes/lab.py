"""The lab's endpoints: evaluation, training history, the latent map's evolution, the classifier's
decision map, the beta sweep and the gradient estimators."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import torch
from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from app.atlas import Atlas, Judge, ServedModel
from app.deps import AtlasDep, ModelDep
from app.schemas import (
    ERROR_RESPONSES,
    DecisionMap,
    ErrorDetail,
    EstimatorVariances,
    LatentEvolution,
    ModelEvaluation,
    Sweep,
    SweepPoint,
    TrainingHistory,
)
from app.validation import parse_comma_list, parse_range
from model.checkpoint import CheckpointError, load_history, load_latents
from model.classifier import classify
from model.estimators import MAX_SAMPLES, compare_estimators
from model.report import Evaluation, cached_evaluation, evaluation_key, read_cached
from model.zoo import BETA_SWEEP, sweep_ids

router = APIRouter(prefix="/api", tags=["lab"], responses=ERROR_RESPONSES)
NO_JUDGE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorDetail, "description": "no digit classifier is trained yet"}
}
MAX_DECISION_GRID = 64
JSON = "application/json"


def _require_judge(atlas: Atlas) -> Judge:
    if atlas.judge is None:
        raise HTTPException(
            503, "no digit classifier is trained: run `latent-atlas train --zoo` (about 30 s), then restart"
        )
    return atlas.judge


def _evaluation_key(atlas: Atlas, served: ServedModel, judge: Judge) -> dict[str, Any]:
    test_digits = len(atlas.digits["test"].head(atlas.plan.test_limit))
    return evaluation_key(
        served.folder, judge.info, test_digits, iwae_k=atlas.plan.iwae_k, samples=atlas.plan.samples
    )


def _compute_evaluation(atlas: Atlas, served: ServedModel, judge: Judge) -> Evaluation:
    return cached_evaluation(
        served.folder,
        served.model.vae,
        judge.classifier,
        judge.info,
        atlas.digits["test"].head(atlas.plan.test_limit),
        atlas.digits["train"],
        iwae_k=atlas.plan.iwae_k,
        samples=atlas.plan.samples,
    )


NOT_YET: dict[int | str, dict[str, Any]] = {
    204: {"description": "with compute=false: the model is not evaluated yet (and nothing was started)"}
}


@router.get(
    "/models/{model_id}/evaluation", responses={**NO_JUDGE, **NOT_YET}, response_model=ModelEvaluation
)
async def evaluation(
    atlas: AtlasDep,
    served: ModelDep,
    model_id: str,
    compute: Annotated[
        bool, Query(description="false: answer 204 No Content rather than start a computation")
    ] = True,
) -> ModelEvaluation | Response:
    """ELBO, log p(x) by importance weighting and their gap, KL per dimension, active units, FID-MNIST of
    prior samples and of reconstructions, and reconstruction accuracy. Read from the model's
    evaluation.json, or computed on first request (a minute or two on a CPU; `latent-atlas eval`
    precomputes it). Concurrent requests share one computation."""
    if served.evaluation is None:
        judge = _require_judge(atlas)
        if not compute:
            key = await run_in_threadpool(_evaluation_key, atlas, served, judge)
            served.evaluation = await run_in_threadpool(read_cached, served.folder, key)
            if served.evaluation is None:
                return Response(status_code=204)  # not an error: the page offers to compute it
        else:
            if served.evaluating is None:
                served.evaluating = asyncio.ensure_future(
                    run_in_threadpool(_compute_evaluation, atlas, served, judge)
                )
            computation = served.evaluating
            try:
                # shield: a client that leaves does not cancel the work the others are waiting for
                served.evaluation = await asyncio.shield(computation)
            finally:
                if computation.done() and served.evaluating is computation:
                    served.evaluating = None  # done (or failed: the next request tries again)
    return ModelEvaluation(model=model_id, **served.evaluation.as_dict())


def _read(served: ServedModel, what: str) -> bytes:
    """History or snapshots as serialised JSON, read from the model folder once."""
    cached = served.lab_cache.get(what)
    if cached is not None:
        return cached
    model_id = served.folder.name
    try:
        if what == "history":
            body: object = TrainingHistory(model=model_id, epochs=load_history(served.folder)).model_dump()
        else:
            snapshots = load_latents(served.folder)
            xy = served.plane.project(snapshots.mu.reshape(-1, served.model.latent_dim))
            xy = xy.reshape(*snapshots.mu.shape[:2], 2)
            index = snapshots.indices.tolist()
            body = LatentEvolution(
                model=model_id,
                index=index,
                label=served.test_labels[snapshots.indices].tolist(),
                epochs=list(range(1, xy.shape[0] + 1)),
                x=xy[..., 0].round(decimals=3).tolist(),
                y=xy[..., 1].round(decimals=3).tolist(),
            ).model_dump()
    except CheckpointError as error:
        raise HTTPException(404, f"model {model_id!r} has no readable {what}: {error}") from error
    cached = served.lab_cache[what] = json.dumps(body, separators=(",", ":")).encode()
    return cached


@router.get("/models/{model_id}/history", response_model=TrainingHistory)
async def history(served: ModelDep) -> Response:
    """Train and test losses per epoch: -ELBO, reconstruction and KL."""
    return Response(_read(served, "history"), media_type=JSON)


@router.get("/models/{model_id}/snapshots", response_model=LatentEvolution)
async def snapshots(served: ModelDep) -> Response:
    """A fixed subset of test digits on the map after every epoch (on the final model's map plane)."""
    return Response(_read(served, "snapshots"), media_type=JSON)


def _data_range(values: torch.Tensor, limit: float) -> str:
    low, high = float(values.min()), float(values.max())
    margin = 0.05 * (high - low)
    return f"{max(low - margin, -limit)},{min(high + margin, limit)}"


def _decision_map(served: ServedModel, judge: Judge, x: torch.Tensor, y: torch.Tensor) -> DecisionMap:
    ys, xs = torch.meshgrid(y, x, indexing="ij")
    z = served.plane.lift(torch.stack([xs.flatten(), ys.flatten()], dim=1))
    labels, confidence = classify(judge.classifier, served.model.decode(z).to(served.model.device))
    shape = (len(y), len(x))
    return DecisionMap(
        model=served.folder.name,
        x=x.tolist(),
        y=y.tolist(),
        label=labels.reshape(shape).tolist(),
        confidence=confidence.reshape(shape).round(decimals=3).tolist(),
    )


@router.get("/models/{model_id}/decision-map", responses=NO_JUDGE)
async def decision_map(
    atlas: AtlasDep,
    served: ModelDep,
    n: Annotated[int, Query(ge=2, le=MAX_DECISION_GRID)] = 40,
    x_range: Annotated[str | None, Query(description="'low,high' (default: the test digits' extent)")] = None,
    y_range: Annotated[str | None, Query(description="'low,high'")] = None,
) -> DecisionMap:
    """Which digit the classifier reads in the decoded image at each point of an n x n grid over the map:
    the regions of the latent space that decode to each digit."""
    judge = _require_judge(atlas)
    limit = served.coordinate_limit
    x_low, x_high = parse_range(x_range or _data_range(served.test_xy[:, 0], limit), 0, "x_range", limit)
    y_low, y_high = parse_range(y_range or _data_range(served.test_xy[:, 1], limit), 0, "y_range", limit)
    x = torch.linspace(x_low, x_high, n)
    y = torch.linspace(y_low, y_high, n)
    return await run_in_threadpool(_decision_map, served, judge, x, y)


@router.get("/sweep")
async def sweep(atlas: AtlasDep) -> Sweep:
    """The beta sweep's models from beta = 0 (recon-2d) to KL-only (kl-2d), each with its test rate
    (KL) and distortion (reconstruction NLL); models not trained yet are listed with trained false."""
    betas: list[float | None] = [*BETA_SWEEP, None]
    points = []
    for model_id, beta in zip(sweep_ids(), betas, strict=True):
        served = atlas.models.get(model_id)
        metrics = served.model.info.metrics if served else {}
        points.append(
            SweepPoint(
                model=model_id,
                title=served.model.info.title if served else model_id,
                beta=beta,
                trained=served is not None,
                rate=metrics.get("kl"),
                distortion=metrics.get("reconstruction_nll"),
            )
        )
    return Sweep(points=points, command="latent-atlas train --zoo beta")


ESTIMATOR_DIGITS = 4  # the first test digits: a fixed batch, so results are comparable across models
ESTIMATOR_REPETITIONS = 20
MAX_SAMPLE_COUNTS = 6


def _estimator_variances(served: ServedModel, counts: tuple[int, ...]) -> dict[str, list[float]]:
    x = served.first_test_pixels[:ESTIMATOR_DIGITS]
    result = compare_estimators(served.model.vae, x, counts, repetitions=ESTIMATOR_REPETITIONS)
    variances = {name: [stats.variance for stats in result[name]] for name in ("reparam", "score")}
    for name in ("reparam", "score"):
        variances[f"{name}_encoder"] = [stats.encoder_variance for stats in result[name]]
    return variances


@router.get("/models/{model_id}/estimators")
async def estimators(
    served: ModelDep,
    samples: Annotated[str, Query(description="comma-separated sample counts S, each 1..1000")] = "1,10,100",
) -> EstimatorVariances:
    """How noisy each gradient estimator is at S samples: the reparametrization trick against the score
    function, on the first test digits. Computed on demand (seconds), then cached."""
    counts = tuple(int(v) for v in parse_comma_list(samples, "samples") if v == int(v))
    if len(counts) != len(samples.split(",")) or not 1 <= len(counts) <= MAX_SAMPLE_COUNTS:
        raise HTTPException(
            422, f"samples: give 1 to {MAX_SAMPLE_COUNTS} whole numbers, got {samples[:80]!r}"
        )
    if any(not 1 <= s <= MAX_SAMPLES for s in counts):
        raise HTTPException(
            422, f"samples: each count must be between 1 and {MAX_SAMPLES}, got {list(counts)}"
        )
    cached = served.estimator_cache.get(counts)
    if cached is None:
        # Seconds of work: off the event loop, so hover decoding keeps flowing meanwhile.
        cached = served.estimator_cache[counts] = await run_in_threadpool(
            _estimator_variances, served, counts
        )
    return EstimatorVariances(
        samples=list(counts),
        reparam_variance=cached["reparam"],
        score_variance=cached["score"],
        reparam_encoder_variance=cached["reparam_encoder"],
        score_encoder_variance=cached["score_encoder"],
        digits=ESTIMATOR_DIGITS,
        repetitions=ESTIMATOR_REPETITIONS,
    )
