"""Every error's body, and the error answers the routes document."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    """Every error: what was wrong, in one sentence."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorDetail, "description": "unknown model (the message lists the valid ids) or index"},
    413: {"model": ErrorDetail, "description": "body over 5 MB, or image over 4096x4096 pixels"},
    415: {"model": ErrorDetail, "description": "not a PNG or JPEG (checked by content)"},
    422: {"model": ErrorDetail, "description": "invalid coordinates, lengths, steps or images"},
}
NO_CLASSIFIER_RESPONSE: dict[int | str, dict[str, object]] = {
    503: {
        "model": ErrorDetail,
        "description": "the model's data set has no classifier yet (the message says how to train one)",
    },
    409: {"model": ErrorDetail, "description": "the model's data set has no labels, so no classifier"},
}


def before_a_stream(responses: dict[int | str, dict[str, object]]) -> dict[int | str, dict[str, object]]:
    """Error answers of a route that streams Server-Sent Events: they come before the stream starts, as
    JSON like every error, and are documented so (not as the stream's type)."""
    schema = {"$ref": "#/components/schemas/ErrorDetail"}
    return {
        status: {"description": answer["description"], "content": {"application/json": {"schema": schema}}}
        for status, answer in responses.items()
    }
