"""A model's training record: its curves per epoch and its latent map after every epoch (models trained
here only: one built by the user's own code has none)."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Response

from app.deps import ModelDep
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.lab import LatentEvolution, TrainingHistory
from app.served_model import ServedModel
from model.inference import CheckpointError

router = APIRouter(prefix="/api/models", tags=["training"], responses=ERROR_RESPONSES)
JSON = "application/json"


def _history(served: ServedModel) -> dict[str, object]:
    # The records as training wrote them (model.records.EpochRecord, which TrainingHistory declares).
    return {"model_id": served.model_id, "epochs": served.loaded.history()}


def _snapshots(served: ServedModel) -> dict[str, object]:
    snapshots = served.loaded.snapshots()
    xy = served.latent_map.plane.project(snapshots.mu)  # [E, K, 2]: every epoch on the final map plane
    return LatentEvolution(
        model_id=served.model_id,
        index=snapshots.indices.tolist(),
        label=served.latent_map.labels[snapshots.indices].tolist(),
        epochs=snapshots.epochs.tolist(),
        x=xy[..., 0].round(decimals=3).tolist(),
        y=xy[..., 1].round(decimals=3).tolist(),
    ).model_dump()


def _read_once(served: ServedModel, what: str, read: Callable[[ServedModel], dict[str, object]]) -> Response:
    """The record as JSON, read from the model folder once."""
    origin = served.loaded.origin
    if served.loaded.checkpoint is None:
        raise HTTPException(
            404,
            f"model {served.model_id!r} was built by {origin.source}, not trained here: it has no training "
            f"record",
        )
    cached = served.responses.get(what)
    if cached is None:
        try:
            body = read(served)
        except CheckpointError as error:
            raise HTTPException(404, f"model {served.model_id!r} has no readable {what}: {error}") from error
        cached = served.responses[what] = json.dumps(body, separators=(",", ":")).encode()
    return Response(cached, media_type=JSON)


@router.get("/{model_id}/history", response_model=TrainingHistory)
async def history(served: ModelDep) -> Response:
    """Train and test losses per epoch: -ELBO, reconstruction and KL."""
    return _read_once(served, "history", _history)


@router.get("/{model_id}/snapshots", response_model=LatentEvolution)
async def snapshots(served: ModelDep) -> Response:
    """A fixed subset of test images on the map after every epoch (on the final model's map plane)."""
    return _read_once(served, "snapshots", _snapshots)
