"""Contracts declared once: the OpenAPI document is valid for the version it declares, the records training
writes are the ones the API documents, a job's states come from model/, and a new model's suggested id
follows the server's one rule."""

from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.schemas.jobs import JobEvent
from model.checkpoint import load_history
from model.records import ENDED_STATES, EpochRecord, JobKind, JobState


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/openapi.json").json()
    return body


def test_the_openapi_document_is_valid_for_its_version(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate  # here: its URI grammars take seconds to import

    assert document["openapi"] == "3.2.0"  # the first to describe an event stream item by item
    validate(document)


def test_the_check_sees_openapi_3_2_fields_in_a_3_1_document(document: dict[str, Any]) -> None:
    """What FastAPI writes by itself: 3.2's itemSchema in a document that says 3.1.0."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    with pytest.raises(OpenAPIValidationError):
        validate({**document, "openapi": "3.1.0"})


def test_the_event_stream_documents_each_event_as_the_job_writes_it(document: dict[str, Any]) -> None:
    stream = document["paths"]["/api/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    data = stream["text/event-stream"]["itemSchema"]["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    mapping = data["contentSchema"]["discriminator"]["mapping"]
    assert set(mapping) == {"started", "epoch", *ENDED_STATES}
    epoch = document["components"]["schemas"]["EpochEvent"]["properties"]
    assert set(EpochRecord.__annotations__) <= set(epoch)


def test_job_states_and_kinds_come_from_the_model(document: dict[str, Any]) -> None:
    view = document["components"]["schemas"]["JobView"]["properties"]
    assert view["state"]["enum"] == list(
        get_args(JobState.__value__ if hasattr(JobState, "__value__") else JobState)
    )
    assert view["kind"]["enum"] == list(get_args(JobKind))


def test_training_writes_the_epoch_record_the_api_declares(tiny_model: Path) -> None:
    history = load_history(tiny_model)
    assert [set(record) for record in history] == [set(EpochRecord.__annotations__)] * len(history)
    adapter = TypeAdapter(JobEvent)
    event = adapter.validate_python(
        {**history[0], "id": 2, "type": "epoch", "at": 0.0, "epochs": 2, "x": [], "y": []}
    )
    assert event["type"] == "epoch"


@pytest.mark.parametrize(
    ("choices", "suggested", "title"),
    [
        ({}, "full-2d-2", "Full ELBO, 2-D latent"),  # full-2d is served: numbered past it
        ({"loss": "kl", "latent_dim": 16}, "kl-16d", "KL only, 16-D latent"),
        (
            {"loss": "beta", "beta": 0.5, "architecture": "conv", "binarized": True, "latent_dim": 3},
            "beta-0p5-3d-conv-bin",
            "beta = 0.5, 3-D latent",
        ),
        ({"loss": "iwae", "iwae_k": 5}, "iwae-k5-2d", "IWAE, k = 5, 2-D latent"),
    ],
)
def test_the_server_suggests_a_new_models_id_and_title(
    client: TestClient, choices: dict[str, Any], suggested: str, title: str
) -> None:
    response = client.post("/api/jobs/suggestion", json=choices)
    assert response.status_code == 200, response.text
    assert response.json() == {"model_id": suggested, "title": title}


def test_a_suggestion_counts_beta_and_k_only_with_their_loss(client: TestClient) -> None:
    suggested = client.post("/api/jobs/suggestion", json={"loss": "kl", "beta": 3, "iwae_k": 9}).json()
    assert suggested == {"model_id": "kl-2d-2", "title": "KL only, 2-D latent"}  # kl-2d is served
