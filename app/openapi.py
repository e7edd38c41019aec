"""The OpenAPI document, valid for the version it declares. FastAPI describes an event stream with
OpenAPI 3.2's `itemSchema` inside a document that declares 3.1.0, which 3.1 validators reject (and
3.2 is not yet what Swagger UI reads). In 3.1 the event stream's media type carries only `schema`: here
that is what each event's data holds, and the stream's own item schema (data, event, id, retry, as the
Server-Sent Events standard fixes them) is dropped."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ITEM_SCHEMA = "itemSchema"  # OpenAPI 3.2's


def without_item_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every media type's `itemSchema` removed (in place)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for answer in operation.get("responses", {}).values():
                for media in answer.get("content", {}).values():
                    media.pop(ITEM_SCHEMA, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the app's document without 3.2's fields, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = without_item_schemas(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
