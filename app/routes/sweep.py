"""/api/sweep: the beta sweep's rate-distortion curve, from reconstruction-only to KL-only."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import RegistryDep
from app.schemas.lab import Sweep, SweepPoint
from model.zoo import BETA_SWEEP, sweep_ids

router = APIRouter(prefix="/api", tags=["lab"])


@router.get("/sweep")
async def sweep(registry: RegistryDep) -> Sweep:
    """The beta sweep's models from beta = 0 (recon-2d) to KL-only (kl-2d), each with its test rate
    (KL) and distortion (reconstruction NLL); models not trained yet are listed with trained false, and a
    model trained on binarized images rather than the sweep's intensities, or scored by another likelihood
    than its Bernoulli, with the reason it is left out."""
    betas: list[float | None] = [*BETA_SWEEP, None]
    points = []
    for model_id, beta in zip(sweep_ids(), betas, strict=True):
        served = registry.models.get(model_id)
        info = served.loaded.checkpoint if served else None  # an outside model of that id has no record
        # The sweep's recipe is on intensities: a binarized model of that id has nats of another scale.
        left_out = None
        if info and info.train_config.binarized:
            left_out = "trained on binarized images"
        elif info and info.model_config.likelihood != "bernoulli":
            left_out = f"scored by a {info.model_config.decoder_likelihood.title} likelihood"
        metrics = info.metrics if info and not left_out else {}
        points.append(
            SweepPoint(
                model_id=model_id,
                title=info.title if info else model_id,
                beta=beta,
                trained=info is not None,
                rate=metrics.get("kl"),
                distortion=metrics.get("reconstruction_nll"),
                left_out=left_out,
            )
        )
    return Sweep(points=points, command="latent-atlas train --zoo beta")
