"""/api/models/{id}/posterior: the true posterior p(z|x) of one image under a 2-D model, by quadrature,
with exact log p(x) beside the ELBO and the IWAE bound."""

from __future__ import annotations

import time

import torch
from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from app.deps import LabDep, ModelDep
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.lab import ExactPosterior, PosteriorRequest
from app.served_model import ServedModel
from app.uploads import prepared_data_url
from model.posterior import evidence_and_bounds

router = APIRouter(prefix="/api/models", tags=["lab"], responses=ERROR_RESPONSES)
GRID_STRIDE = 2  # every other node of the fine grid: enough for contours, a quarter of the bytes


def _image(served: ServedModel, request: PosteriorRequest) -> torch.Tensor:
    """The request's image as pixels [C*H*W] in [0, 1]."""
    if request.index is not None:
        images = served.dataset.split(request.split)
        if not 0 <= request.index < len(images):
            noun = served.noun(request.split)
            raise HTTPException(404, f"no {noun} {request.index} (0..{len(images) - 1})")
        return images.images[request.index].flatten().float() / 255
    return prepared_data_url(request.image or "", "image", served).flatten()


@router.post("/{model_id}/posterior")
async def posterior(served: ModelDep, lab: LabDep, request: PosteriorRequest) -> ExactPosterior:
    """For a 2-D model, p(z|x) on the plane and exact log p(x) (a grid refined until it agrees with half
    its resolution to 0.01 nats), the ELBO, the IWAE bound at the lab's k, and the exact gap
    KL(q(z|x) || p(z|x)) = log p(x) - ELBO. About a second on a CPU, off the event loop."""
    if served.loaded.latent_dim != 2:
        raise HTTPException(
            422,
            f"the exact posterior is computed for 2-D models; {served.model_id} has "
            f"{served.loaded.latent_dim} latent dimensions",
        )
    x = _image(served, request).to(served.loaded.device)
    began = time.perf_counter()
    found = await run_in_threadpool(evidence_and_bounds, served.loaded.network, x, iwae_k=lab.settings.iwae_k)
    grid = found.quadrature
    return ExactPosterior(
        log_px=grid.log_evidence,
        change=grid.change,
        elbo=found.elbo,
        elbo_samples=found.samples,
        iwae=found.iwae,
        iwae_k=found.iwae_k,
        gap=found.gap,
        mu=found.mu.tolist(),
        sigma=found.sigma.tolist(),
        x=grid.x[::GRID_STRIDE].tolist(),
        y=grid.y[::GRID_STRIDE].tolist(),
        density=grid.density[::GRID_STRIDE, ::GRID_STRIDE].float().tolist(),
        seconds=time.perf_counter() - began,
    )
