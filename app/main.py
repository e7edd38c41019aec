"""The app factory: models load once in the lifespan, routes live in app/routes."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app.density_state import DensityMaps
from app.disentanglement_state import DisentanglementScores
from app.errors import install_error_handlers
from app.job_runner import JobRunner
from app.lab_state import LabState
from app.limits import MAX_POINTS, BodySizeLimit
from app.openapi import install_openapi
from app.plane_state import Planes
from app.point_metrics_state import PointMetrics
from app.proxy import ForwardedPrefix
from app.registry import ModelRegistry
from app.responses import map_body
from app.routes import (
    aggregate_posterior,
    arithmetic,
    data,
    decision_map,
    decode,
    density,
    dimensions,
    disentanglement,
    encode,
    estimators,
    evaluation,
    export,
    generate,
    health,
    interpolate,
    jobs,
    maps,
    models,
    pages,
    planes,
    point_metrics,
    posterior,
    selection,
    sweep,
    training_record,
    traversal,
    view_link,
)
from app.security import BrowserSecurity
from app.settings import Settings
from app.templating import STATIC
from app.view_link import ViewLink
from model.evaluation import LAB_EVALUATION
from model.factor_scores import LAB_SETTINGS

ROUTERS = (
    health.router,
    models.router,
    maps.router,
    planes.router,
    point_metrics.router,
    density.router,
    decode.router,
    export.router,
    encode.router,
    interpolate.router,
    traversal.router,
    dimensions.router,
    disentanglement.router,
    view_link.router,
    selection.router,
    arithmetic.router,
    generate.router,
    training_record.router,
    jobs.router,
    evaluation.router,
    estimators.router,
    posterior.router,
    decision_map.router,
    aggregate_posterior.router,
    sweep.router,
    data.router,
    pages.router,
)


def add_middlewares(app: FastAPI, settings: Settings) -> None:
    """The protections every response passes through, and the root a proxy's prefix gives the pages.
    Added last runs first: the Host check, the prefix, then cross-origin refusal and headers, then the body
    limit."""
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(BrowserSecurity, frame_ancestors=settings.frame_ancestors)
    app.add_middleware(ForwardedPrefix)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=[h.strip("[]") for h in settings.allowed_hosts])


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = ModelRegistry.load(
            settings.home, settings.device, settings.outside, home_models=settings.home_models
        )
        app.state.registry = registry
        app.state.lab = LabState.load(settings.home, registry, settings.evaluation or LAB_EVALUATION)
        app.state.planes = Planes()
        app.state.density_maps = DensityMaps(settings.density_from)
        app.state.point_metrics = PointMetrics()
        app.state.disentanglement = DisentanglementScores(settings.disentanglement or LAB_SETTINGS)
        app.state.view_link = ViewLink()
        app.state.jobs = JobRunner(
            settings.home, registry, app.state.lab, settings.job_process, follow=settings.workers > 1
        )
        for served in registry.models.values():
            map_body(served, "test", MAX_POINTS)  # the page's first map request is then instant
        # What start-up built (~220,000 objects: the libraries, models, caches) lives as long as the server.
        # Frozen out of the collector, it no longer makes each full collection a ~100 ms pause during
        # which every request in flight waits. Never unfrozen: the freeze is process-wide, and another
        # app in the same process (tests) may still be serving.
        gc.collect()
        gc.freeze()
        if settings.run_queue:
            app.state.jobs.start()
        yield
        app.state.planes.close()  # a plane computing is stopped with its process
        app.state.point_metrics.close()  # and per-point metrics at their next batch
        app.state.disentanglement.close()  # and disentanglement scores at their next metric
        app.state.density_maps.close()  # and a large split's encoding
        app.state.lab.close()  # a running evaluation stops at its next batch: it never holds the server up
        await app.state.jobs.close()

    # FastAPIOffline: /docs loads Swagger UI from this server, not a CDN, so the API docs work where the
    # app does (offline machines included) and send no visitor to a third party. No ReDoc: it fetches
    # its logo from its maker's CDN, and one docs page is enough.
    app = FastAPIOffline(
        redoc_url=None,
        title="Latent Atlas",
        summary="Explore the latent spaces of variational autoencoders trained on image data sets.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_middlewares(app, settings)
    install_error_handlers(app)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
