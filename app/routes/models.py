"""/api/models: the served models and what each was trained with."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import RegistryDep
from app.responses import model_summaries
from app.schemas.models import ModelSummary

router = APIRouter(prefix="/api/models", tags=["models"])


@router.get("")
async def list_models(registry: RegistryDep) -> list[ModelSummary]:
    return model_summaries(registry)
