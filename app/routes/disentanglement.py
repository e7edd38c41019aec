"""/api/models/{id}/disentanglement and /api/disentanglement/sweep: a model's disentanglement scores,
computed in the background (start, progress), with their spread over the seeds of its recipe; and a data
set's models side by side, each score against beta and against reconstruction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from app.deps import DisentanglementDep, ModelDep, RegistryDep
from app.disentanglement_state import DisentanglementScores, require_factors
from app.registry import ModelRegistry
from app.schemas.disentanglement import (
    DisentanglementProgress,
    DisentanglementSweep,
    Metric,
    ModelDisentanglement,
    SeedSpread,
    SweepModel,
)
from app.schemas.errors import ERROR_RESPONSES
from app.served_model import ServedModel
from model.disentanglement import METRICS
from model.factor_scores import draws_factors, penalty_weight, recipe_of, seed_spread

router = APIRouter(prefix="/api", tags=["disentanglement"], responses=ERROR_RESPONSES)
METRIC_LIST = [Metric(name=name, title=title, description=about) for name, (title, about) in METRICS.items()]
DatasetQuery = Annotated[str, Query(description="the key of a served data set of known factors (sprites)")]


@router.post("/models/{model_id}/disentanglement", status_code=202)
async def start_scores(served: ModelDep, scores: DisentanglementDep) -> DisentanglementProgress:
    """Score the model by every metric in the background (once; cached beside it): about a minute on two
    cores. Models are scored one at a time; 409 for a data set whose factors are not known."""
    return DisentanglementProgress.of(await scores.start(served), model_id=served.model_id)


@router.get("/models/{model_id}/disentanglement/progress")
async def scores_progress(served: ModelDep, scores: DisentanglementDep) -> DisentanglementProgress:
    """Whether the model's scores are computed, computing (how far) or failed."""
    require_factors(served)
    return DisentanglementProgress.of(await scores.status(served), model_id=served.model_id)


def _seed_models(registry: ModelRegistry, served: ServedModel) -> list[ServedModel]:
    """The served models trained as `served` but for the seed (itself included; alone when not trained
    here)."""
    info = served.loaded.checkpoint
    if info is None:
        return [served]
    recipe = recipe_of(info)
    return [
        other
        for other in registry.models.values()
        if other.loaded.checkpoint is not None and recipe_of(other.loaded.checkpoint) == recipe
    ]


@router.get("/models/{model_id}/disentanglement")
async def model_scores(
    served: ModelDep, scores: DisentanglementDep, registry: RegistryDep
) -> ModelDisentanglement:
    """The model's scores, its factor x latent information and DCI importance matrices, and each score's
    mean and standard error over the seeds of its recipe that are scored (409 saying how to start them
    before)."""
    require_factors(served)
    own = await scores.scores(served)
    if own is None:
        status = await scores.status(served)
        where = f"/api/models/{served.model_id}/disentanglement"
        why = {
            "computing": f"are being computed ({status.stage}, {status.fraction:.0%}): GET {where}/progress",
            "failed": f"failed ({status.error}): POST {where} tries again",
        }.get(status.state, f"are not computed yet: POST {where} starts them")
        raise HTTPException(409, f"{served.model_id}'s disentanglement scores {why}")
    scored = {}
    for other in _seed_models(registry, served):
        found = own if other is served else await scores.scores(other)
        if found is not None:
            scored[other.model_id] = found.figures()
    seeds = {}
    for name in METRICS:
        mean, error = seed_spread([figures[name] for figures in scored.values()])
        seeds[name] = SeedSpread(mean=mean, standard_error=error, seeds=len(scored))
    info = served.loaded.checkpoint
    return ModelDisentanglement(
        model_id=served.model_id,
        factors=[factor.name for factor in served.dataset.info.factors],
        metrics=METRIC_LIST,
        figures=own.figures(),
        information=own.information,
        importance=own.dci.importance,
        reconstruction_nll=info.metrics.get("reconstruction_nll") if info else None,
        seed_models=sorted(scored),
        seeds=seeds,
    )


def _sweep_models(registry: ModelRegistry, dataset: str) -> list[ServedModel]:
    found = registry.datasets.get(dataset)
    if found is None:
        raise HTTPException(404, f"no data set {dataset!r} is served: {', '.join(sorted(registry.datasets))}")
    if not draws_factors(found.info):
        raise HTTPException(
            409,
            f"{found.info.title}'s factors of variation are not known: a sweep needs a set of known factors",
        )
    return [served for served in registry.models.values() if served.dataset.info.key == dataset]


async def _sweep(
    registry: ModelRegistry, scores: DisentanglementScores, dataset: str
) -> DisentanglementSweep:
    models = []
    for served in _sweep_models(registry, dataset):
        info = served.loaded.checkpoint
        found = await scores.scores(served)
        models.append(
            SweepModel(
                model_id=served.model_id,
                title=info.title if info else served.model_id,
                loss=info.train_config.loss if info else None,
                beta=penalty_weight(info.train_config) if info else None,
                seed=info.train_config.seed if info else None,
                reconstruction_nll=info.metrics.get("reconstruction_nll") if info else None,
                state=(await scores.status(served)).state,
                figures=found.figures() if found else None,
            )
        )
    return DisentanglementSweep(dataset=dataset, metrics=METRIC_LIST, models=models)


@router.get("/disentanglement/sweep")
async def sweep(
    registry: RegistryDep, scores: DisentanglementDep, dataset: DatasetQuery
) -> DisentanglementSweep:
    """Every served model of the data set with its objective, beta, seed, reconstruction and scores (once
    computed): the spread seeds and hyperparameters make (Locatello et al., 2019)."""
    return await _sweep(registry, scores, dataset)


@router.post("/disentanglement/sweep", status_code=202)
async def score_sweep(
    registry: RegistryDep, scores: DisentanglementDep, dataset: DatasetQuery
) -> DisentanglementSweep:
    """Score every served model of the data set that is not scored yet, one after another, in the
    background."""
    for served in _sweep_models(registry, dataset):
        await scores.start(served)
    return await _sweep(registry, scores, dataset)
