"""/api/models/{id}/map: the test images on the model's latent map."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.deps import ModelDep
from app.schemas import ERROR_RESPONSES, LatentMap
from app.served_model import ServedModel

router = APIRouter(prefix="/api/models", tags=["map"], responses=ERROR_RESPONSES)
MAX_POINTS = 10_000


def map_body(served: ServedModel, limit: int) -> bytes:
    """The map response for the first `limit` test digits, serialised once: it is the largest response
    and the same for every visitor."""
    key = f"map:{limit}"
    cached = served.responses.get(key)
    if cached is None:
        latent_map = served.latent_map
        xy, sigma_xy = latent_map.xy[:limit], latent_map.sigma_xy[:limit]
        plane = latent_map.plane
        body = {  # LatentMap's fields (the schema tests check the response against it)
            "model_id": served.model_id,
            "dataset": served.dataset.info.key,
            "class_names": list(served.dataset.info.class_names),
            "split": "test",
            "x": [round(v, 4) for v in xy[:, 0].tolist()],
            "y": [round(v, 4) for v in xy[:, 1].tolist()],
            "label": latent_map.labels[: xy.shape[0]].tolist(),
            "index": list(range(xy.shape[0])),
            "sigma_x": [round(v, 4) for v in sigma_xy[:, 0].tolist()],
            "sigma_y": [round(v, 4) for v in sigma_xy[:, 1].tolist()],
            "coordinate_limit": latent_map.coordinate_limit,
            "projection": None
            if plane.is_identity
            else {"mean": plane.mean.tolist(), "components": plane.components.tolist()},
        }
        cached = served.responses[key] = json.dumps(body, separators=(",", ":")).encode()
    return cached


@router.get("/{model_id}/map", response_model=LatentMap)
async def latent_map(
    served: ModelDep,
    split: Literal["test"] = "test",  # only the test split is encoded; the parameter is in the contract
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> Response:
    """The test digits' posterior means on the map plane, with their labels and per-axis sigma."""
    return Response(map_body(served, limit), media_type="application/json")
