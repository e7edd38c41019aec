"""/api/models/{id}/map: a split's images (test, training, or both) on the model's latent map."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from app.deps import ModelDep
from app.schemas import ERROR_RESPONSES, MAX_POINTS, LatentMap
from app.served_model import ServedModel
from model.data import MapSplit

router = APIRouter(prefix="/api/models", tags=["map"], responses=ERROR_RESPONSES)


def map_body(served: ServedModel, split: MapSplit, limit: int) -> bytes:
    """The map response for the first `limit` points of a split, serialised once: it is the largest
    response and the same for every visitor."""
    latent_map = served.map_of(split)
    shown = min(limit, len(latent_map))
    key = f"map:{split}:{shown}"
    cached = served.responses.get(key)
    if cached is None:
        xy, sigma_xy = latent_map.xy[:shown], latent_map.sigma_xy[:shown]
        tests = {"test": shown, "train": 0, "all": min(shown, len(served.latent_map))}[split]
        plane = latent_map.plane
        body = {  # LatentMap's fields (the schema tests check the response against it)
            "model_id": served.model_id,
            "dataset": served.dataset.info.key,
            "class_names": list(served.dataset.info.class_names),
            "split": split,
            "test_points": tests,
            "x": [round(v, 4) for v in xy[:, 0].tolist()],
            "y": [round(v, 4) for v in xy[:, 1].tolist()],
            "label": latent_map.labels[:shown].tolist(),
            "index": [*range(tests), *range(shown - tests)],
            "sigma_x": [round(v, 4) for v in sigma_xy[:, 0].tolist()],
            "sigma_y": [round(v, 4) for v in sigma_xy[:, 1].tolist()],
            "coordinate_limit": served.latent_map.coordinate_limit,  # what decoding accepts, any split
            "projection": None
            if plane.is_identity
            else {"mean": plane.mean.tolist(), "components": plane.components.tolist()},
        }
        cached = served.responses[key] = json.dumps(body, separators=(",", ":")).encode()
    return cached


@router.get("/{model_id}/map", response_model=LatentMap)
async def latent_map(
    served: ModelDep,
    split: Annotated[MapSplit, Query(description="test, train, or all (the test points first)")] = "test",
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> Response:
    """A split's posterior means on the map plane, with their labels, their index in their split and
    per-axis sigma. The training split is encoded on its first request (seconds on a CPU), then kept."""
    body = await run_in_threadpool(map_body, served, split, limit)
    return Response(body, media_type="application/json")
