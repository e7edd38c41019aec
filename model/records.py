"""The records training writes and the API declares, typed once: each epoch's figures (a model's
history.json, and the epoch events of a training job), a job's kinds and states (its job.json) and its
events (its events.jsonl, sent to the pages as Server-Sent Events). The web layer builds its schemas from
these, so the documented payloads are the written ones."""

from __future__ import annotations

from typing import Literal, NotRequired, get_args

from typing_extensions import TypedDict  # pydantic reads typing's own only from Python 3.12

JobKind = Literal["model", "classifier"]
EndedState = Literal["done", "failed", "cancelled"]
JobState = Literal["queued", "running", EndedState]
ENDED_STATES: tuple[EndedState, ...] = get_args(EndedState)


class EpochRecord(TypedDict):
    """One epoch of training, in nats per image unless named otherwise."""

    epoch: int
    train_loss: float  # what training minimised (the -ELBO, a beta-weighted one, or minus the IWAE bound)
    train_neg_elbo: float
    train_reconstruction_nll: float
    train_kl: float
    test_neg_elbo: float
    test_reconstruction_nll: float
    test_kl: float
    test_active_units: int
    # The KL term of the first HEALTH_IMAGES test images split as I(x; z) + KL(q(z) || p(z)) (model/
    # latent_health.py), the bound log N on the first, and the KL per latent dimension. Absent from the
    # records of models trained before they were measured.
    test_mutual_information: NotRequired[float]
    test_marginal_kl: NotRequired[float]
    test_information_bound: NotRequired[float]
    test_kl_per_dim: NotRequired[list[float]]
    seconds: float  # the epoch's training time
    images_per_second: float


class StartedEvent(TypedDict):
    """A job began (or resumed): for a model, the test images whose latent means each epoch reports."""

    id: int
    type: Literal["started"]
    epochs: int
    epochs_completed: int  # complete epochs it resumes from
    latent_dim: NotRequired[int]
    class_names: NotRequired[list[str]]
    index: NotRequired[list[int]]  # the snapshot images' test indices
    label: NotRequired[list[int]]


class EpochEvent(EpochRecord):
    """An epoch of a model's job ended: its record, and the snapshot images on the map plane then."""

    id: int
    type: Literal["epoch"]
    at: float  # when the epoch ended, Unix seconds
    epochs: int  # the job's epochs in all
    x: list[float]
    y: list[float]


class EndedEvent(TypedDict):
    """The job's last event: done, failed (message says why) or cancelled (kept: its partial model is
    served)."""

    id: int
    type: EndedState
    message: str
    kept: NotRequired[bool]
    epochs_completed: NotRequired[int]


JobEvent = StartedEvent | EpochEvent | EndedEvent
EVENT_TYPES: tuple[str, ...] = ("started", "epoch", *ENDED_STATES)  # in the order a job sends them
