"""/api/health: is every model served?"""

from __future__ import annotations

import os

from fastapi import APIRouter

from app.deps import JobsDep, LabDep, RegistryDep, problems
from app.schemas.models import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health(registry: RegistryDep, lab: LabDep, jobs: JobsDep) -> Health:
    """`degraded` when a model folder or the classifier could not be loaded (the reasons are in
    `problems`), or when no model is served nor being trained."""
    found = problems(registry, lab)
    training = jobs.training()
    return Health(
        status="degraded" if found or not (registry.models or training) else "ok",
        models=list(registry.models),
        training=training,
        device=str(registry.device),
        problems=found,
        process=os.getpid(),
    )
