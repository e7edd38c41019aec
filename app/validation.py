"""Checks on latent coordinates that every endpoint shares: finite, in range, the right length."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from fastapi import HTTPException

MAX_ABS_COORDINATE = 10.0  # beyond this the prior has no mass worth decoding (10 standard deviations)


def coordinate_limit(encodings: torch.Tensor) -> float:
    """The largest |coordinate| a model decodes: 10 prior standard deviations, or 1.5 times its farthest
    test encoding for models whose codes ignore the prior (a reconstruction-only model spreads to
    |z| ~ 25), so that every model can decode its own map and a margin around it."""
    return max(MAX_ABS_COORDINATE, math.ceil(1.5 * float(encodings.abs().max())))


def check_coordinates(values: Sequence[float], what: str, limit: float = MAX_ABS_COORDINATE) -> None:
    for position, value in enumerate(values):
        if not math.isfinite(value):
            raise HTTPException(422, f"{what}: coordinate {position} is {value}; coordinates must be finite")
        if abs(value) > limit:
            raise HTTPException(
                422, f"{what}: coordinate {position} is {value}; |coordinates| must be <= {limit:g}"
            )


def check_latent(
    values: Sequence[float], latent_dim: int, what: str, limit: float = MAX_ABS_COORDINATE
) -> None:
    """A full latent vector: latent_dim finite values within the limit."""
    if len(values) != latent_dim:
        raise HTTPException(
            422, f"{what}: z has {len(values)} values; this model's latent_dim is {latent_dim}"
        )
    check_coordinates(values, what, limit)


def latent_vector(
    values: Sequence[float], latent_dim: int, what: str, limit: float = MAX_ABS_COORDINATE
) -> torch.Tensor:
    """A full latent vector [D], checked."""
    check_latent(values, latent_dim, what, limit)
    return torch.tensor(values, dtype=torch.float32)


def query_number(query: Mapping[str, str], name: str) -> float | None:
    """An optional numeric query parameter (None when absent); finiteness and range are checked later."""
    text = query.get(name)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise HTTPException(
            422, f"query parameter {name!r}: Input should be a valid number, got {text[:80]!r}"
        ) from None


def parse_comma_list(text: str, what: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError as error:
        raise HTTPException(422, f"{what}: expected comma-separated numbers, got {text[:80]!r}") from error


def parse_range(text: str | None, extent: float, what: str, limit: float) -> tuple[float, float]:
    """A 'low,high' query value (default -extent..extent), checked against the model's limit."""
    if text is None:
        check_coordinates([extent], "extent", limit)
        return -extent, extent
    values = parse_comma_list(text, what)
    if len(values) != 2 or not values[0] < values[1]:
        raise HTTPException(422, f"{what}: expected 'low,high' with low < high, got {text[:80]!r}")
    check_coordinates(values, what, limit)
    return values[0], values[1]
