"""/api/models/{id}/arithmetic: attribute vectors (the mean encoding of one group minus another's) added
to any encoding."""

from __future__ import annotations

import torch
from fastapi import APIRouter, HTTPException

from app.deps import ModelDep
from app.latents import class_index, latent_of
from app.responses import decoded_points
from app.schemas.errors import ERROR_RESPONSES
from app.schemas.selection import ArithmeticRequest, Group, LatentArithmetic
from app.served_model import ServedModel
from model.arithmetic import group_mean, with_attribute
from model.selection import members

router = APIRouter(prefix="/api/models", tags=["arithmetic"], responses=ERROR_RESPONSES)


def _mean_encoding(served: ServedModel, group: Group, where: str) -> tuple[torch.Tensor, int]:
    """The mean posterior mean of the images a group names ([D]) and how many they are, or the 4xx
    saying what was wrong."""
    latent_map = served.map_of(group.split)
    if group.indices is not None:
        try:
            chosen = members(latent_map, group.indices, served.noun(group.split))
        except ValueError as error:
            raise HTTPException(404, f"{where}.indices: {error}") from error
    else:
        label = class_index(served, group.label or "", where)
        chosen = (latent_map.labels == label).nonzero().flatten()
        if len(chosen) == 0:
            raise HTTPException(
                404, f"{where}.label: no {served.noun(group.split)} has label {group.label!r}"
            )
    return group_mean(latent_map.mu, chosen), len(chosen)


@router.post("/{model_id}/arithmetic")
async def arithmetic(served: ModelDep, request: ArithmeticRequest) -> LatentArithmetic:
    """Latent arithmetic: v = mean(a) - mean(b) over the groups' posterior means (a class, or a selection),
    and the decoded strip to + s v for `steps` strengths s from 0 to `strength`. With a = a class and
    b = another, applied to an image of b, the strip turns it into a's class."""
    (mean_a, a_count), (mean_b, b_count) = (
        _mean_encoding(served, request.a, "a"),
        _mean_encoding(served, request.b, "b"),
    )
    vector = mean_a - mean_b
    strengths = torch.linspace(0.0, request.strength, request.steps)
    z = with_attribute(latent_of(served, request.to, "to"), vector, strengths)
    strip = decoded_points(served, z, served.loaded.decode(z))
    return LatentArithmetic(
        **strip.model_dump(),
        strengths=strengths.tolist(),
        vector=vector.tolist(),
        norm=float(vector.norm()),
        a_count=a_count,
        b_count=b_count,
    )
