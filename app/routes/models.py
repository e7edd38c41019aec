"""/api/models: the served models and what each was trained with."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import RegistryDep
from app.schemas import ModelSummary
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["models"])


def summary(served: ServedModel) -> ModelSummary:
    info = served.loaded.info
    return ModelSummary.model_validate(
        {
            "id": served.model_id,
            "title": info.title,
            "loss": info.train_config.loss,
            "beta": info.train_config.kl_weight,
            "latent_dim": info.model_config.latent_dim,
            "dataset": served.dataset.info.key,
            "architecture": info.model_config.architecture,
            "epochs": info.epochs_completed,
            "coordinate_limit": served.latent_map.coordinate_limit,
            "test_metrics": info.metrics,
        }
    )


@router.get("")
async def list_models(registry: RegistryDep) -> list[ModelSummary]:
    return [summary(served) for served in registry.models.values()]
