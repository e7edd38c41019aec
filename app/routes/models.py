"""/api/models: the served models and what each was trained with."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import RegistryDep
from app.responses import model_summaries
from app.schemas.models import ModelSummary
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["models"])


def summary(served: ServedModel) -> ModelSummary:
    loaded, info = served.loaded, served.loaded.checkpoint
    binarized = info is not None and info.train_config.binarized  # its nats are on another scale
    trained_here = (
        {
            "loss": info.train_config.loss,
            "beta": info.train_config.kl_weight,
            "iwae_k": info.train_config.iwae_k,
            "objective": info.train_config.objective_title,
            "binarized": info.train_config.binarized,
            "architecture": info.model_config.architecture,
            "epochs": info.epochs_completed,
            "test_metrics": info.metrics,
        }
        if info is not None
        else {}
    )
    return ModelSummary.model_validate(
        {
            "id": served.model_id,
            "title": loaded.title,
            "origin": {"kind": loaded.origin.kind, "source": loaded.origin.source},
            "latent_dim": loaded.latent_dim,
            "dataset": served.dataset.info.key,
            "group": served.dataset.info.title + (", binarized" if binarized else ""),
            "coordinate_limit": served.latent_map.coordinate_limit,
            **trained_here,
        }
    )


@router.get("")
async def list_models(registry: RegistryDep) -> list[ModelSummary]:
    return model_summaries(registry)
