"""/api/health: is every model served?"""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import AtlasDep
from app.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health(atlas: AtlasDep) -> Health:
    """`degraded` when a model folder could not be loaded (its reason is in `problems`) or none is."""
    degraded = bool(atlas.failures) or not atlas.models
    return Health(
        status="degraded" if degraded else "ok",
        models=list(atlas.models),
        device=str(atlas.device),
        problems=atlas.failures,
    )
