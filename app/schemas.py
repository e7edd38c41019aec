"""Request and response bodies of the REST contract (documented at /docs)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model, model_validator

from app.params import Coordinate
from model.evaluation import FIELD_DESCRIPTIONS, Evaluation

MAX_DECODE_POINTS = 1024
MIN_STEPS, MAX_STEPS = 2, 64


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


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    models: list[str]
    device: str
    problems: dict[str, str] = Field(default_factory=dict, description="model id -> why it is not served")


class ModelMetrics(BaseModel):
    """Test-set figures recorded when training ended, in nats per digit."""

    neg_elbo: float
    reconstruction_nll: float
    kl: float
    kl_per_dim: list[float]
    active_units: int


class ModelSummary(BaseModel):
    id: str
    title: str
    loss: str
    beta: float
    latent_dim: int
    dataset: str = Field(description="the key of its data set (see /api/datasets)")
    architecture: Literal["mlp", "conv"]
    epochs: int
    coordinate_limit: float = Field(description="the largest |coordinate| this model decodes")
    test_metrics: ModelMetrics


class Projection(BaseModel):
    mean: list[float]
    components: list[list[float]] = Field(description="2 x latent_dim; z = mean + [x, y] @ components")


class DatasetSummary(BaseModel):
    key: str
    title: str
    image_shape: list[int] = Field(description="channels, height, width")
    class_names: list[str]
    labelled: bool = Field(description="false: one folder of unlabelled images; class figures are empty")
    drawable: bool = Field(description="drawing with a pen makes an image like this data set's")
    note: str = Field(description="what a user should know, e.g. that the images are synthetic")
    train_size: int
    test_size: int


class LatentMap(BaseModel):
    model_id: str
    dataset: str
    class_names: list[str] = Field(description="the name of each label")
    split: Literal["test"]
    x: list[float]
    y: list[float]
    label: list[int]
    index: list[int]
    sigma_x: list[float]
    sigma_y: list[float]
    coordinate_limit: float = Field(description="the largest |coordinate| this model decodes")
    projection: Projection | None = Field(None, description="the PCA plane, for latent_dim > 2")


class DecodeRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"points": [[0.0, 0.0], [1.5, -0.5]]}]},
    )
    points: list[list[Coordinate]] = Field(
        min_length=1,
        max_length=MAX_DECODE_POINTS,
        description="map coordinates [x, y], or full latent vectors of length latent_dim",
    )


class Images(BaseModel):
    images: list[str] = Field(description="PNG data URLs in the data set's image shape")


class Neighbor(BaseModel):
    index: int
    label: int
    distance: float


class Encoding(BaseModel):
    input: str = Field(description="the preprocessed 28x28 digit, as the model saw it (PNG data URL)")
    mu: list[float] = Field(description="the posterior mean of q(z|x)")
    sigma: list[float] = Field(description="the posterior standard deviations of q(z|x)")
    map_xy: list[float] = Field(description="where mu sits on the map")
    map_sigma: list[float] = Field(
        description="q(z|x)'s standard deviation along the map's x and y axes (the ellipse's half-axes / 2)"
    )
    reconstruction: str = Field(description="the decoded posterior mean (PNG data URL)")
    neighbors: list[Neighbor] = Field(description="the nearest test digits in latent space, nearest first")


ENDPOINT_KINDS = ("index", "z", "point", "image", "label")
MAX_VIA = 6  # ends between start and end: a path through 8 glyphs at most


class Endpoint(BaseModel):
    """One end of an interpolation: give exactly one of index, z, point, image or label."""

    index: StrictInt | None = Field(None, description="a test image")
    z: list[Coordinate] | None = Field(None, description="a latent vector of length latent_dim")
    point: list[Coordinate] | None = Field(None, description="a map point [x, y], lifted through the plane")
    image: str | None = Field(None, description="a PNG or JPEG data URL, encoded to its mean")
    label: str | None = Field(
        None, description="a class name (e.g. '@'): the class's most typical test image, nearest its mean"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Endpoint:
        given = [name for name in ENDPOINT_KINDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of index, z, point, image or label (got {given or 'none'})")
        return self


class InterpolateRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"start": {"index": 1}, "end": {"index": 0}, "steps": 10, "method": "linear"},
                {"start": {"label": "@"}, "via": [{"label": "9"}], "end": {"label": "a"}, "steps": 8},
            ]
        },
    )
    start: Endpoint
    via: list[Endpoint] = Field(
        default=[], max_length=MAX_VIA, description="ends to pass through, in order, between start and end"
    )
    end: Endpoint
    steps: int = Field(
        10, ge=MIN_STEPS, le=MAX_STEPS, strict=True, description="points per leg, ends included"
    )
    method: Literal["linear", "slerp"] = "linear"


class DecodedPoints(BaseModel):
    """Latent points with their map coordinates and decoded images (interpolations, prior samples)."""

    z: list[list[float]]
    map_xy: list[list[float]]
    images: list[str] = Field(description="PNG data URLs in the data set's image shape")


class EstimatorVariances(BaseModel):
    """Variance of two estimators of the ELBO's gradient on a fixed batch of test digits, per sample
    count S: the score function (tutorial Eq. 20) and the reparametrization trick (Eq. 23-27), with
    respect to (mu, logvar) of q(z|x) and to the encoder's weights."""

    samples: list[int]
    reparam_variance: list[float] = Field(description="w.r.t. (mu, logvar): per component, averaged")
    score_variance: list[float] = Field(description="w.r.t. (mu, logvar): per component, averaged")
    reparam_encoder_variance: list[float] = Field(description="w.r.t. the encoder's weights, averaged")
    score_encoder_variance: list[float] = Field(description="w.r.t. the encoder's weights, averaged")
    digits: int = Field(description="test digits in the batch (the first ones of the test set)")
    repetitions: int = Field(description="independent S-sample estimates behind each variance")


def _evaluation_schema() -> type[BaseModel]:
    """The /evaluation body: the model id and every field of model.evaluation.Evaluation, with its
    description, so the API documents exactly what the evaluation computes."""
    types = get_type_hints(Evaluation)
    figures: dict[str, Any] = {
        f.name: (types[f.name], Field(description=FIELD_DESCRIPTIONS[f.name])) for f in fields(Evaluation)
    }
    return create_model(
        "ModelEvaluation",
        __doc__="Test-set figures in nats per digit (log-likelihood scale, higher is better) and FID-MNIST "
        "(lower is better), computed once per model and cached beside it.",
        model_id=(str, ...),
        **figures,
    )


ModelEvaluation = _evaluation_schema()


class TrainingHistory(BaseModel):
    model_id: str
    epochs: list[dict[str, float | int]] = Field(description="per epoch: train_* and test_* losses in nats")


class LatentEvolution(BaseModel):
    """Where a fixed subset of test digits sat on the map after each epoch."""

    model_id: str
    index: list[int] = Field(description="test digit indices")
    label: list[int]
    epochs: list[int]
    x: list[list[float]] = Field(description="per epoch, per digit")
    y: list[list[float]]


class DecisionMap(BaseModel):
    """The classifier's reading of decoded digits over a grid of the map: label[i][j] at (x[j], y[i])."""

    model_id: str
    x: list[float]
    y: list[float]
    label: list[list[int]]
    confidence: list[list[float]]


class SweepPoint(BaseModel):
    model_id: str
    title: str
    beta: float | None = Field(description="weight of the KL term; null for the KL-only model")
    trained: bool
    rate: float | None = Field(description="test KL(q(z|x) || p(z)), nats")
    distortion: float | None = Field(description="test -E_q[log p(x|z)], nats")


class Sweep(BaseModel):
    """The beta sweep from reconstruction-only to KL-only: its rate-distortion curve."""

    points: list[SweepPoint]
    command: str = Field(description="what trains the missing models")
