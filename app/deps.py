"""Dependencies declared once: the served Atlas and the model a path names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from app.atlas import Atlas, ServedModel


async def get_atlas(request: Request) -> Atlas:
    atlas: Atlas = request.app.state.atlas
    return atlas


AtlasDep = Annotated[Atlas, Depends(get_atlas)]


async def get_model(
    request: Request, model_id: Annotated[str, Path(description="e.g. full-2d")]
) -> ServedModel:
    # async: sync dependencies would hop to a worker thread on every request. The Atlas is read off the
    # request rather than through AtlasDep: each dependency level costs FastAPI ~30 us per request.
    # Ids are dictionary keys, never paths: nothing here touches the filesystem.
    atlas: Atlas = request.app.state.atlas
    served = atlas.models.get(model_id)
    if served is None:
        valid = ", ".join(atlas.models) or "none (no model is loaded)"
        raise HTTPException(404, f"unknown model {model_id!r}; valid ids: {valid}")
    return served


ModelDep = Annotated[ServedModel, Depends(get_model)]
