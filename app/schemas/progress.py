"""How far a background computation is, as its status endpoints answer."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field

from app.background import BackgroundStatus, ComputationState


class ComputationProgress(BaseModel):
    state: ComputationState = Field(
        description="absent: not computed (POST starts it); computing; ready; failed (error says why; POST "
        "tries again)"
    )
    stage: str = Field(description="what the computation is doing now")
    fraction: float = Field(description="of the whole done, 0 to 1")
    seconds: float = Field(description="since the computation started")
    error: str | None = None

    @classmethod
    def of(cls, status: BackgroundStatus, **fields: object) -> Self:
        return cls(
            state=status.state,
            stage=status.stage,
            fraction=status.fraction,
            seconds=status.seconds,
            error=status.error,
            **fields,  # the subclass's own (method, split)
        )
