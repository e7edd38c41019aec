"""One error shape for every failure: {"detail": "what was wrong"}, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

log = logging.getLogger("latent_atlas")


def _describe(error: dict[str, object]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part != "body"]  # type: ignore[attr-defined]
    where = ".".join(location[1:]) if location and location[0] in ("query", "path") else ".".join(location)
    kind = {"query": "query parameter", "path": "path parameter"}.get(
        location[0] if location else "", "field"
    )
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx")
    if error.get("type") == "value_error" and isinstance(context, dict) and "error" in context:
        message = str(context["error"])  # our own checks' words, without pydantic's "Value error, "
    return f"{kind} {where!r}: {message}" if where else message


def _causes(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors without the echoes: when an item of a list fails, pydantic also finds the list too short
    after dropping it, which says nothing the item's own error does not."""
    failed_inside = {tuple(e.get("loc", ()))[:-1] for e in errors}
    return [
        e for e in errors if not (e.get("type") == "too_short" and tuple(e.get("loc", ())) in failed_inside)
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": "; ".join(_describe(e) for e in _causes(exc.errors()))}, status_code=422
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error: the server logged it"}, status_code=500)
