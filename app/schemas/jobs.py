"""Training jobs: what a request to train asks for, and a job's state and events."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from model.config import Architecture, LossMode
from model.home import check_model_id
from model.likelihoods import LikelihoodName
from model.records import EndedEvent, EpochEvent, JobKind, JobState, StartedEvent
from model.zoo import ZooName

MAX_EPOCHS = 200
MAX_LATENT_DIM = 64
MAX_HIDDEN_LAYERS = 4
MAX_HIDDEN_WIDTH = 2048
MAX_IWAE_K = 100  # each step decodes k samples per image: the paper's largest is 50


class TrainingChoices(BaseModel):
    """What a model trains with: the zoo's recipe (Adam, batch 128, cosine-decayed learning rate) with
    these choices."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    dataset: str = Field("mnist", description="a data set key from /api/datasets")
    loss: LossMode = Field(
        "full",
        description="full ELBO, beta-weighted KL, reconstruction only, KL only, the IWAE bound, "
        "beta-TCVAE (the total correlation weighted by beta) or FactorVAE (likewise, the total correlation "
        "estimated by a discriminator; its gamma is beta - 1)",
    )
    beta: float = Field(
        1.0,
        ge=0,
        le=100,
        description="the KL term's weight with loss 'beta'; the total correlation's with loss 'tcvae' or "
        "'factorvae'",
    )
    iwae_k: int = Field(
        1, ge=1, le=MAX_IWAE_K, description="importance samples per image in the bound, with loss 'iwae'"
    )
    binarized: bool = Field(
        False,
        description="train on images binarized afresh every epoch and measure on the test set binarized once "
        "(the literature's setting: its nats compare only with other binarized models')",
    )
    latent_dim: int = Field(2, ge=1, le=MAX_LATENT_DIM)
    architecture: Architecture = "mlp"
    likelihood: LikelihoodName | None = Field(
        None,
        description="p(x|z): bernoulli, gaussian (a fixed sigma: an MSE loss), gaussian-learned (a sigma per "
        "pixel) or logistic (discretized, 8-bit); default: bernoulli for grey images, logistic for colour",
    )
    likelihood_scale: float | None = Field(
        None, gt=0, le=10, description="the fixed sigma of a gaussian likelihood, on intensities in [0, 1]"
    )
    hidden: list[Annotated[int, Field(ge=1, le=MAX_HIDDEN_WIDTH)]] | None = Field(
        None,
        min_length=1,
        max_length=MAX_HIDDEN_LAYERS,
        description="the MLP's layer widths or the conv stages' channels (default: the architecture's)",
    )
    epochs: int = Field(10, ge=1, le=MAX_EPOCHS)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    train_limit: int | None = Field(None, ge=100, description="train on the first N training images only")


class TrainingRequest(TrainingChoices):
    """A model to train: its id and the choices it trains with."""

    model_id: Annotated[str, AfterValidator(check_model_id)] = Field(
        description="the new model's id: 1-64 lowercase letters, digits, '-' or '_'", examples=["beta-3-2d"]
    )
    title: str | None = Field(None, max_length=80, description="display name (default: from the choices)")
    replace: bool = Field(False, description="replace a served model of the same id when the job is done")


class Suggestion(BaseModel):
    """What a model of these choices would be called: an id no model or job has, and its title."""

    model_id: str = Field(examples=["beta-3-2d"])
    title: str = Field(examples=["beta = 3, 2-D latent"])


class ZooRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zoo: ZooName = Field(
        description="the default models, the beta sweep, or the disentanglement sweep (of known factors)"
    )
    dataset: str = Field("mnist", description="a data set key from /api/datasets")


class JobView(BaseModel):
    """A training job and where it stands."""

    id: int
    kind: JobKind
    model_id: str = Field(description="the model it trains, or for a classifier its data set's key")
    title: str
    dataset: str
    state: JobState
    message: str = Field(description="why it failed, or what became of a cancelled job's model")
    epochs: int
    epochs_completed: int
    created: str
    started: str | None
    ended: str | None
    cancelling: bool = Field(description="asked to stop; it ends after its current step")
    spec: dict[str, Any] = Field(description="everything it trains with: model and training configs")


# One Server-Sent Event's data, as the job wrote it (model.records): `started`, an `epoch` for each epoch,
# then one of `done`, `failed` (with `message`) or `cancelled` (with `kept`).
JobEvent = Annotated[StartedEvent | EpochEvent | EndedEvent, Field(discriminator="type")]
