"""/api/data: the original MNIST digits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from app.deps import RegistryDep
from app.images import png_bytes
from app.schemas import ERROR_RESPONSES
from model.data import Split

router = APIRouter(prefix="/api/data", tags=["data"], responses=ERROR_RESPONSES)


@router.get("/{split}/{index}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def digit_png(registry: RegistryDep, split: Split, index: Annotated[int, Path(ge=0)]) -> Response:
    """One MNIST digit as a 28x28 grayscale PNG."""
    digits = registry.data[split]
    if index >= len(digits):
        raise HTTPException(
            404, f"no {split} digit {index}: the {split} split has {len(digits)} (0..{len(digits) - 1})"
        )
    return Response(
        png_bytes(digits.images[index] / 255),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
