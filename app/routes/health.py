"""/api/health: is every model served?"""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import LabDep, RegistryDep, problems
from app.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health(registry: RegistryDep, lab: LabDep) -> Health:
    """`degraded` when a model folder or the classifier could not be loaded (the reasons are in
    `problems`), or when no model is."""
    found = problems(registry, lab)
    return Health(
        status="degraded" if found or not registry.models else "ok",
        models=list(registry.models),
        device=str(registry.device),
        problems=found,
    )
