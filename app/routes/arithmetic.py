"""/api/models/{id}/arithmetic: attribute vectors (the mean encoding of one group minus another's) added
to any encoding."""

from __future__ import annotations

import torch
from fastapi import APIRouter, HTTPException

from app.deps import ModelDep
from app.latents import class_index, latent_of
from app.routes.interpolate import decoded_points
from app.schemas import ERROR_RESPONSES, ArithmeticRequest, Group, LatentArithmetic
from app.served_model import ServedModel
from model.arithmetic import attribute_vector, with_attribute
from model.selection import members

router = APIRouter(prefix="/api/models", tags=["arithmetic"], responses=ERROR_RESPONSES)


def _members(served: ServedModel, group: Group, where: str) -> torch.Tensor:
    """The test indices a group names: [M], or the 4xx saying what was wrong."""
    if group.indices is not None:
        try:
            return members(served.latent_map, group.indices)
        except ValueError as error:
            raise HTTPException(404, f"{where}.indices: {error}") from error
    label = class_index(served, group.label or "", where)
    chosen = (served.latent_map.labels == label).nonzero().flatten()
    if len(chosen) == 0:
        raise HTTPException(404, f"{where}.label: no test image has label {group.label!r}")
    return chosen


@router.post("/{model_id}/arithmetic")
async def arithmetic(served: ModelDep, request: ArithmeticRequest) -> LatentArithmetic:
    """Latent arithmetic: v = mean(a) - mean(b) over the groups' posterior means (a class, or a selection),
    and the decoded strip to + s v for `steps` strengths s from 0 to `strength`. With a = a class and
    b = another, applied to a digit of b, the strip turns it into a's class."""
    a, b = _members(served, request.a, "a"), _members(served, request.b, "b")
    vector = attribute_vector(served.latent_map.mu, a, b)
    strengths = torch.linspace(0.0, request.strength, request.steps)
    z = with_attribute(latent_of(served, request.to, "to"), vector, strengths)
    strip = decoded_points(served, z, served.loaded.decode(z))
    return LatentArithmetic(
        **strip.model_dump(),
        strengths=strengths.tolist(),
        vector=vector.tolist(),
        norm=float(vector.norm()),
        a_count=len(a),
        b_count=len(b),
    )
