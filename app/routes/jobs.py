"""/api/jobs: train models from the page. Jobs queue on disk and train one at a time in a process of
their own (app.job_runner); each reports its epochs as Server-Sent Events."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.deps import JobsDep, RegistryDep, TrainingDep
from app.job_events import STREAM_HEADERS, EventStream
from app.job_runner import JobRunner
from app.registry import ModelRegistry
from app.schemas.errors import ERROR_RESPONSES, ErrorDetail, before_a_stream
from app.schemas.jobs import JobEvent, JobView, Suggestion, TrainingChoices, TrainingRequest, ZooRequest
from model.config import WEIGHTED_LOSSES, ModelConfig, TrainConfig, check_together
from model.home import models_root
from model.job_queue import Job, JobSpec
from model.likelihoods import suited_to
from model.zoo import RECIPE, model_title, suggested_model_id, zoo_jobs

JOB_RESPONSES: dict[int | str, dict[str, object]] = {
    **ERROR_RESPONSES,
    403: {
        "model": ErrorDetail,
        "description": "training from the page is off, or the request came from another site",
    },
    404: {"model": ErrorDetail, "description": "unknown job (the message lists the jobs)"},
    422: {
        "model": ErrorDetail,
        "description": "a bound, an unknown data set, a taken model id or a full queue",
    },
}
router = APIRouter(prefix="/api/jobs", tags=["training jobs"], responses=JOB_RESPONSES)


async def existing_job(job_id: int, jobs: JobsDep) -> Job:
    """The job the path names: a 404 listing the jobs before any response (or stream) starts."""
    job = jobs.queue.get(job_id)
    if job is None:
        known = ", ".join(str(job.id) for job in jobs.queue.jobs()) or "none"
        raise HTTPException(404, f"unknown job {job_id}; jobs: {known}")
    return job


JobDep = Annotated[Job, Depends(existing_job)]


def view(jobs: JobRunner, job: Job) -> JobView:
    spec = job.spec
    completed = job.epochs_completed
    if job.state == "running" and spec.kind == "model":
        completed = jobs.queue.epochs_reported(job.id)
    return JobView(
        id=job.id,
        kind=spec.kind,
        model_id=spec.target,
        title=spec.title,
        dataset=spec.dataset,
        state=job.state,
        message=job.message,
        epochs=spec.epochs,
        epochs_completed=completed,
        created=job.created,
        started=job.started,
        ended=job.ended,
        cancelling=job.cancel is not None and not job.ended_state,
        spec=spec.as_dict(),
    )


def _check_room(jobs: JobRunner, wanted: int) -> None:
    try:
        jobs.check_room(wanted)
    except ValueError as error:
        raise HTTPException(422, str(error)) from error


def _check_dataset(registry: ModelRegistry, key: str) -> None:
    if key not in registry.datasets:
        known = ", ".join(registry.datasets) or "none"
        raise HTTPException(
            422, f"unknown data set {key!r}; prepared: {known} (`latent-atlas data --dataset NAME` adds one)"
        )


def _configs(request: TrainingChoices, registry: ModelRegistry) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs a request's choices make, or the 422 saying what was wrong."""
    _check_dataset(registry, request.dataset)
    dataset = registry.datasets[request.dataset].info
    try:
        model_config = ModelConfig(
            latent_dim=request.latent_dim,
            architecture=request.architecture,
            hidden=tuple(request.hidden or ()),
            image_shape=dataset.image_shape,
            likelihood=request.likelihood or suited_to(dataset.image_shape[0]),
            likelihood_scale=request.likelihood_scale,
        )
        train_config = replace(
            RECIPE,
            loss=request.loss,
            beta=request.beta,
            iwae_k=request.iwae_k,
            binarized=request.binarized,
            epochs=request.epochs,
            seed=request.seed,
            train_limit=request.train_limit,
        )
        check_together(model_config, train_config)
    except ValueError as error:
        raise HTTPException(422, str(error)) from error
    return model_config, train_config


def _spec(request: TrainingRequest, registry: ModelRegistry) -> JobSpec:
    model_config, train_config = _configs(request, registry)
    return JobSpec(
        kind="model",
        target=request.model_id,
        title=request.title or model_title(train_config, model_config.latent_dim),
        dataset=request.dataset,
        model_config=model_config,
        train_config=train_config,
        replace=request.replace,
    )


def _check_target(jobs: JobRunner, spec: JobSpec) -> None:
    training = next((job for job in jobs.queue.pending() if job.spec.target == spec.target), None)
    if training is not None:
        raise HTTPException(422, f"job {training.id} already trains {spec.target!r}: cancel it first")
    served = jobs.registry.models.get(spec.target)
    if served is not None and served.loaded.checkpoint is None:
        raise HTTPException(
            422,
            f"model {spec.target!r} is your own, built by {served.loaded.origin.source}: choose another id",
        )
    exists = (models_root(jobs.home) / spec.target).exists()
    if exists and not spec.replace:
        raise HTTPException(
            422, f"model {spec.target!r} exists: choose another id, or ask to replace it (replace: true)"
        )


@router.get("")
async def list_jobs(jobs: JobsDep) -> list[JobView]:
    """Every job, oldest first: the queue, the running job and the ended ones."""
    return [view(jobs, job) for job in jobs.queue.jobs()]


@router.post("/suggestion")
async def suggest(body: TrainingChoices, jobs: JobsDep, registry: RegistryDep) -> Suggestion:
    """The id and title a model of these choices would get: an id that no served model, model folder or
    pending job has (the Train page fills its form with it). A suggestion is never refused: beta and k
    count only with the loss that uses them, and the choices are checked when the model is queued."""
    config = replace(
        RECIPE,
        loss=body.loss,
        beta=body.beta if body.loss in WEIGHTED_LOSSES else 1.0,
        iwae_k=body.iwae_k if body.loss == "iwae" else 1,
        binarized=body.binarized,
    )
    taken = {*registry.models, *jobs.queue.pending_targets()}
    taken |= {folder.name for folder in models_root(jobs.home).glob("*")}
    return Suggestion(
        model_id=suggested_model_id(body.dataset, body.architecture, body.latent_dim, config, taken),
        title=model_title(config, body.latent_dim),
    )


@router.post("", status_code=202)
async def submit(body: TrainingRequest, jobs: TrainingDep, registry: RegistryDep) -> JobView:
    """Queue a model to train; it trains when the jobs before it are done, then is served at once."""
    spec = _spec(body, registry)
    _check_target(jobs, spec)
    _check_room(jobs, 1)
    return view(jobs, jobs.submit(spec))


@router.post("/zoo", status_code=202)
async def submit_zoo(body: ZooRequest, jobs: TrainingDep, registry: RegistryDep) -> list[JobView]:
    """Queue whatever of a zoo is missing and not already queued: the default models of a data set, the
    beta sweep behind the lab's rate-distortion curve (MNIST's), or the disentanglement sweep of a set of
    known factors (sprites)."""
    _check_dataset(registry, body.dataset)
    dataset = registry.datasets[body.dataset]
    try:
        specs = zoo_jobs(
            jobs.home, dataset.info, len(dataset.train), zoo=body.zoo, device=str(registry.device)
        )
    except ValueError as error:  # a zoo the data set cannot have (the disentanglement sweep of MNIST)
        raise HTTPException(422, f"zoo: {error}") from error
    pending = jobs.queue.pending_targets()
    specs = [spec for spec in specs if spec.target not in pending]
    _check_room(jobs, len(specs))
    return [view(jobs, jobs.submit(spec)) for spec in specs]


@router.get("/{job_id}")
async def get_job(job: JobDep, jobs: JobsDep) -> JobView:
    return view(jobs, job)


@router.delete(
    "/{job_id}", response_model=JobView, responses={204: {"description": "the ended job was removed"}}
)
async def cancel_or_remove(
    jobs: TrainingDep,  # first: with training off, the answer is 403 whatever the job
    job: JobDep,
    keep: Annotated[bool, Query(description="serve the partial model if it completed an epoch")] = False,
) -> Any:
    """Cancel a queued job at once, a running one after its current step; remove an ended job from the
    list (204; its model stays served). The oldest ended jobs are removed anyway as the list grows."""
    if job.ended_state:
        await run_in_threadpool(jobs.queue.remove, job)
        await jobs.notify()
        return Response(status_code=204)
    return view(jobs, await jobs.cancel(job, keep=keep))


@router.get(
    "/{job_id}/events",
    response_class=EventStream,
    responses={
        **before_a_stream(JOB_RESPONSES),
        200: {"model": JobEvent, "description": "one event's data, for each event"},
    },
)
async def events(
    job: JobDep,
    jobs: JobsDep,
    last_event_id: Annotated[int | None, Header(description="resume after this event")] = None,
) -> Response:
    """The job's events as Server-Sent Events, from the first (or after Last-Event-ID), then live until
    the job ends."""
    seen = last_event_id or 0
    replay = await jobs.streams.replay(job, seen)
    if replay is not None:  # an ended job: its events, formatted once
        return EventStream(replay, headers=STREAM_HEADERS)
    return StreamingResponse(
        jobs.streams.live(job, seen), media_type=EventStream.media_type, headers=STREAM_HEADERS
    )
