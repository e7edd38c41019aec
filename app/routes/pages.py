"""The HTML pages and the Plotly bundle, served from the plotly package so the page needs no CDN."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from app.deps import DisentanglementDep, JobsDep, LabDep, RegistryDep, SettingsDep, page_problems
from app.registry import ModelRegistry
from app.responses import dataset_summary, model_summaries
from app.schemas.jobs import MAX_EPOCHS, MAX_IWAE_K, MAX_LATENT_DIM
from app.templating import PLOTLY_FILE, PLOTLY_URL, templates
from model.budget import MIN_IMAGES
from model.config import WEIGHTED_LOSSES
from model.evaluation import FIGURE_ROWS
from model.home import MODEL_ID_PATTERN
from model.likelihoods import CHOICES, DEFAULT_GAUSSIAN_SCALE
from model.point_metrics import POINT_METRICS
from model.records import ENDED_STATES, EVENT_TYPES
from model.zoo import zoo_model_id

COMPARED = ("recon-2d", "kl-2d", "full-2d")  # the zoo's three 2-D loss variants, as the tutorial's Fig. 2

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str, registry: RegistryDep, lab: LabDep, **context: object) -> HTMLResponse:
    models = [summary.model_dump() for summary in model_summaries(registry)]
    datasets = {key: dataset_summary(dataset).model_dump() for key, dataset in registry.datasets.items()}
    # The pickers' groups in data set order, binarized models after the others; a data set prepared with no
    # model yet has no group.
    place = {m["group"]: (list(datasets).index(m["dataset"]), bool(m["binarized"])) for m in models}
    groups = sorted(place, key=place.__getitem__)
    return templates.TemplateResponse(
        request,
        name,
        {
            "models": models,
            "datasets": datasets,
            "groups": groups,
            "plotly_url": PLOTLY_URL,
            # Behind a proxy's path prefix every URL a page holds starts with it; `here` is the page's own.
            "root": request.scope.get("root_path", ""),
            "here": request.url.path.removeprefix(request.scope.get("root_path", "")),
            "problems": page_problems(registry, lab),
            "job_events": {"types": EVENT_TYPES, "ended": ENDED_STATES},
            **context,
        },
    )


def comparable(registry: ModelRegistry) -> dict[str, list[str]]:
    """Data set key -> its three loss variants' ids, for every data set with all three served."""
    found = {key: [zoo_model_id(key, base) for base in COMPARED] for key in registry.datasets}
    return {key: ids for key, ids in found.items() if all(i in registry.models for i in ids)}


@router.get("/", response_class=HTMLResponse)
async def explorer(
    request: Request, registry: RegistryDep, lab: LabDep, jobs: JobsDep, settings: SettingsDep
) -> HTMLResponse:
    pending = bool(jobs.training())
    return _page(
        request,
        "explorer.html",
        registry,
        lab,
        jobs_pending=pending,
        point_metrics=POINT_METRICS,
        linked_view=settings.linked_view,
    )


@router.get("/compare", response_class=HTMLResponse)
async def compare(
    request: Request, registry: RegistryDep, lab: LabDep, jobs: JobsDep, dataset: str = "mnist"
) -> HTMLResponse:
    """The three loss variants of one data set (?dataset=KEY, among those with all three trained)."""
    choices = comparable(registry)
    chosen = dataset if dataset in choices else next(iter(choices), dataset)
    compared = choices.get(chosen, [zoo_model_id(chosen, base) for base in COMPARED])
    missing = [model_id for model_id in compared if model_id not in registry.models]
    pending = jobs.training()
    return _page(
        request,
        "compare.html",
        registry,
        lab,
        compared=[{"id": i, "variant": base} for i, base in zip(compared, COMPARED, strict=True)],
        missing=missing,
        training=bool(missing) and set(missing) <= set(pending),
        choices=list(choices),
        chosen=chosen,
    )


@router.get("/lab", response_class=HTMLResponse)
async def lab_page(
    request: Request, registry: RegistryDep, lab: LabDep, scores: DisentanglementDep
) -> HTMLResponse:
    rows = [asdict(row) for row in FIGURE_ROWS]  # the evaluation table follows the one list of figures
    # What the captions say is computed: the evaluation's images, the disentanglement scores' samples.
    settings = {"evaluation": lab.settings, "min_images": MIN_IMAGES, "disentanglement": scores.settings}
    return _page(request, "lab.html", registry, lab, evaluation_rows=rows, **settings)


@router.get("/latent", response_class=HTMLResponse)
async def latent_page(request: Request, registry: RegistryDep, lab: LabDep) -> HTMLResponse:
    """One latent dimension of a model (?model=&dim=&index=): its KL, its ends, its classes, its traversal."""
    return _page(request, "latent.html", registry, lab)


@router.get("/train", response_class=HTMLResponse)
async def train_page(
    request: Request, registry: RegistryDep, lab: LabDep, settings: SettingsDep
) -> HTMLResponse:
    limits = {"epochs": MAX_EPOCHS, "latent_dim": MAX_LATENT_DIM, "iwae_k": MAX_IWAE_K}
    return _page(
        request,
        "train.html",
        registry,
        lab,
        limits=limits,
        training=settings.training,
        id_pattern=MODEL_ID_PATTERN.pattern,
        likelihoods=CHOICES,
        default_scale=DEFAULT_GAUSSIAN_SCALE,
        weighted_losses=WEIGHTED_LOSSES,
    )


@router.get(PLOTLY_URL)
async def plotly_bundle() -> FileResponse:
    if not PLOTLY_FILE.is_file():
        raise HTTPException(404, "the plotly package ships no plotly.min.js")
    return FileResponse(
        PLOTLY_FILE,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
