"""Request parameters, declared once as types that FastAPI both validates and documents in /openapi.json:
finite numbers, comma-separated lists, 'low,high' ranges. What depends on the model a path names (the
latent length, the coordinate limit) is checked after parsing, with the same 422 {"detail"} shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import HTTPException
from pydantic import AfterValidator, AllowInfNan, BeforeValidator, FiniteFloat, Strict

from model.latent_map import LatentMap


def _split_commas(value: object) -> object:
    """'a,b' -> ['a', 'b'] for list parameters: given once comma-separated, or repeated (FastAPI hands
    a list parameter every value of the query), or both."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part for item in value for part in (item.split(",") if isinstance(item, str) else [item])]
    return value


def _low_below_high(values: list[float]) -> list[float]:
    if len(values) != 2 or not values[0] < values[1]:
        raise ValueError("expected two numbers 'low,high' with low < high")
    return values


# Marks a list query parameter as 'a,b,c' (or the parameter repeated).
CommaSeparated = BeforeValidator(_split_commas)
# A list of finite numbers.
Numbers = Annotated[list[FiniteFloat], CommaSeparated]
# A 'low,high' range of finite numbers.
Range = Annotated[list[FiniteFloat], CommaSeparated, AfterValidator(_low_below_high)]


# A coordinate in a JSON body: a number, never a string that could be coerced into one, and finite
# (Python's JSON reader accepts NaN and Infinity).
Coordinate = Annotated[float, Strict(), AllowInfNan(False)]


def invalid(where: str, message: str) -> HTTPException:
    """The 422 of a value that parsed but does not fit the model it is for."""
    return HTTPException(422, f"{where}: {message}")


def check_within(values: Sequence[float], where: str, limit: float) -> None:
    """Every coordinate within +-limit, or the 422 naming the first that is not."""
    for position, value in enumerate(values):
        if abs(value) > limit:
            raise invalid(where, f"coordinate {position} is {value:g}; |coordinates| must be <= {limit:g}")


def check_latent(latent_map: LatentMap, values: Sequence[float], where: str) -> list[float]:
    """A full latent vector: latent_dim values within the model's coordinate limit."""
    if len(values) != latent_map.latent_dim:
        raise invalid(
            where, f"z has {len(values)} values; this model's latent_dim is {latent_map.latent_dim}"
        )
    check_within(values, where, latent_map.coordinate_limit)
    return list(values)


def check_point(latent_map: LatentMap, values: Sequence[float], where: str) -> list[float]:
    """A map point [x, y] or a full latent z, within the model's coordinate limit."""
    if len(values) not in (2, latent_map.latent_dim):
        raise invalid(
            where, f"got {len(values)} values; send [x, y] or a z of length {latent_map.latent_dim}"
        )
    check_within(values, where, latent_map.coordinate_limit)
    return list(values)
