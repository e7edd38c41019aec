"""Dependencies declared once: the server's settings, the model registry, the model a path names, the lab's
state, the nonlinear planes, the per-point metrics and the training jobs (refused when training from the
page is off). Handlers take these, never `request.app.state` itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request

from app.density_state import DensityMaps
from app.disentanglement_state import DisentanglementScores
from app.job_runner import JobRunner
from app.lab_state import LabState
from app.plane_state import Planes, ShownPlane
from app.point_metrics_state import PointMetrics
from app.registry import ModelRegistry
from app.served_model import ServedModel
from app.settings import Settings
from app.view_link import ViewLink
from model.data import MapSplit
from model.planes import PlaneMethod

TRAINING_OFF = (
    "training from the page is off on this server: it was started with --no-training, or it binds to a "
    "non-local address without --allow-training"
)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> ModelRegistry:
    registry: ModelRegistry = request.app.state.registry
    return registry


async def get_model(
    request: Request, model_id: Annotated[str, Path(description="e.g. full-2d")]
) -> ServedModel:
    # async: sync dependencies would hop to a worker thread on every request. The registry is read off
    # the request rather than through RegistryDep: each dependency level costs FastAPI ~30 us per request.
    # Ids are dictionary keys, never paths: nothing here touches the filesystem.
    registry: ModelRegistry = request.app.state.registry
    served = registry.models.get(model_id)
    if served is None:
        valid = ", ".join(registry.models) or "none (no model is loaded)"
        raise HTTPException(404, f"unknown model {model_id!r}; valid ids: {valid}")
    return served


async def get_lab(request: Request) -> LabState:
    lab: LabState = request.app.state.lab
    return lab


async def get_density_maps(request: Request) -> DensityMaps:
    densities: DensityMaps = request.app.state.density_maps
    return densities


async def get_planes(request: Request) -> Planes:
    planes: Planes = request.app.state.planes
    return planes


async def get_shown_plane(
    request: Request,
    served: Annotated[ServedModel, Depends(get_model)],
    plane: Annotated[
        PlaneMethod, Query(description="the plane map points are on: pca (exact), or a computed umap or tsne")
    ] = "pca",
    split: Annotated[MapSplit, Query(description="whose UMAP or t-SNE plane (test, train or all)")] = "test",
) -> ShownPlane:
    """The plane a request's map points are on (a 409 for a UMAP or t-SNE plane not computed yet)."""
    if plane == "pca":
        return ShownPlane(served.latent_map, None, split)
    nonlinear = await (await get_planes(request)).plane(served, split, plane)
    return ShownPlane(served.latent_map, nonlinear, split)


async def get_point_metrics(request: Request) -> PointMetrics:
    metrics: PointMetrics = request.app.state.point_metrics
    return metrics


async def get_disentanglement(request: Request) -> DisentanglementScores:
    scores: DisentanglementScores = request.app.state.disentanglement
    return scores


async def get_view_link(request: Request) -> ViewLink:
    link: ViewLink = request.app.state.view_link
    return link


async def get_jobs(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


async def require_training(request: Request) -> JobRunner:
    """The jobs, for a request that changes them: refused when training from the page is off."""
    if not (await get_settings(request)).training:
        raise HTTPException(403, TRAINING_OFF)
    return await get_jobs(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
LabDep = Annotated[LabState, Depends(get_lab)]
PlanesDep = Annotated[Planes, Depends(get_planes)]
DensityMapsDep = Annotated[DensityMaps, Depends(get_density_maps)]
ShownPlaneDep = Annotated[ShownPlane, Depends(get_shown_plane)]
PointMetricsDep = Annotated[PointMetrics, Depends(get_point_metrics)]
DisentanglementDep = Annotated[DisentanglementScores, Depends(get_disentanglement)]
ViewLinkDep = Annotated[ViewLink, Depends(get_view_link)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
TrainingDep = Annotated[JobRunner, Depends(require_training)]


def problems(registry: ModelRegistry, lab: LabState) -> dict[str, str]:
    """What is not served and why: damaged model folders, the user's models that failed, and classifiers
    that could not be loaded (by model id, or "classifier of KEY")."""
    return {name: why for name, _, why in page_problems(registry, lab)}


def page_problems(registry: ModelRegistry, lab: LabState) -> list[tuple[str, str, str]]:
    """The same, each named with what it is, for the pages' banner: (name, what, why)."""
    classifiers = [(f"classifier of {key}", "classifier", why) for key, why in lab.problems.items()]
    return [(name, failure.what, failure.why) for name, failure in registry.failures.items()] + classifiers
