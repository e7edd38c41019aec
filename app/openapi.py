"""The OpenAPI document, valid for the version it declares: 3.2, the first to describe an event stream
item by item (`itemSchema`). A job's events route answers its stream itself (a replay whole, a live job
event by event: app/job_events.py), so FastAPI documents it as a plain string whose schema is the event
data's; here that schema moves to where 3.2 puts it, each item's `data`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

OPENAPI_VERSION = "3.2.0"
EVENT_STREAM = "text/event-stream"
# A Server-Sent Event's fields (the WHATWG standard), its data a JSON text of the documented schema.
EVENT_FIELDS = {
    "event": {"type": "string"},
    "id": {"type": "string"},
    "retry": {"type": "integer", "minimum": 0},
}


def event_items(data_schema: dict[str, Any]) -> dict[str, Any]:
    """The item schema of an event stream whose events carry `data_schema` as JSON."""
    data = {"type": "string", "contentMediaType": "application/json", "contentSchema": data_schema}
    return {"type": "object", "required": ["data"], "properties": {"data": data, **EVENT_FIELDS}}


def with_event_items(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every event stream described item by item (in place)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for answer in operation.get("responses", {}).values():
                media = answer.get("content", {}).get(EVENT_STREAM)
                if media is not None and "schema" in media:
                    data_schema = {key: value for key, value in media.pop("schema").items() if key != "type"}
                    media["itemSchema"] = event_items(data_schema)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the app's document as OpenAPI 3.2: FastAPI's own, built (and cached) once, then its event
    streams described item by item."""
    app.openapi_version = OPENAPI_VERSION
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = build()
        return with_event_items(document) if first else document

    app.openapi = openapi  # type: ignore[method-assign]
