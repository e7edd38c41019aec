"""The lab: the exact posterior, the gradient estimators, the evaluation, a model's training record,
the decision map and the beta sweep."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model, model_validator

from model.config import MAX_SNAPSHOTS
from model.data import Split
from model.evaluation import FIELD_DESCRIPTIONS, Evaluation
from model.records import EpochRecord


class PosteriorRequest(BaseModel):
    """The image whose exact posterior to compute: give exactly one of index or image."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"index": 3}]})
    index: StrictInt | None = Field(None, description="an image of `split`")
    split: Split = Field("test", description="the split `index` is in")
    image: str | None = Field(None, description="a PNG or JPEG data URL, prepared as uploads are")

    @model_validator(mode="after")
    def _exactly_one(self) -> PosteriorRequest:
        if (self.index is None) == (self.image is None):
            raise ValueError("give exactly one of index or image")
        return self


class ExactPosterior(BaseModel):
    """log p(x) by quadrature over the plane beside the two bounds, and p(z|x) on a grid, for one image
    under a 2-D model. All in nats; ELBO <= IWAE <= log p(x) (up to the bounds' sampling)."""

    log_px: float = Field(description="log p(x), the integral of p(x|z) p(z) over the plane (tutorial Eq. 4)")
    change: float = Field(description="|log p(x) at the grid's resolution - at half of it|: the convergence")
    elbo: float = Field(description="the ELBO, E_q[log p(x|z)] - KL(q(z|x) || p(z)), over elbo_samples draws")
    elbo_samples: int
    iwae: float = Field(description="the importance-weighted bound with iwae_k samples (the lab's k)")
    iwae_k: int
    gap: float = Field(description="KL(q(z|x) || p(z|x)) = log p(x) - ELBO (tutorial Eq. 10)")
    mu: list[float] = Field(description="q(z|x)'s mean")
    sigma: list[float] = Field(description="q(z|x)'s standard deviations")
    x: list[float] = Field(description="the grid's first coordinates")
    y: list[float] = Field(description="the grid's second coordinates")
    density: list[list[float]] = Field(description="p(z|x) per unit area at each grid node, [len(y)][len(x)]")
    seconds: float


class EstimatorVariances(BaseModel):
    """Variance of two estimators of the ELBO's gradient on a fixed batch of test images, per sample
    count S: the score function (tutorial Eq. 20) and the reparametrization trick (Eq. 23-27), with
    respect to (mu, logvar) of q(z|x) and to the encoder's weights."""

    samples: list[int]
    reparam_variance: list[float] = Field(description="w.r.t. (mu, logvar): per component, averaged")
    score_variance: list[float] = Field(description="w.r.t. (mu, logvar): per component, averaged")
    reparam_encoder_variance: list[float] = Field(description="w.r.t. the encoder's weights, averaged")
    score_encoder_variance: list[float] = Field(description="w.r.t. the encoder's weights, averaged")
    digits: int = Field(description="test images in the batch (the first ones of the test set)")
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
        __doc__="Test-set figures in nats per image (log-likelihood scale, higher is better) and FID-MNIST "
        "(lower is better), computed once per model and cached beside it.",
        model_id=(str, ...),
        **figures,
    )


ModelEvaluation = _evaluation_schema()


class EvaluationProgressEvent(BaseModel):
    """One event of an evaluation's progress stream."""

    type: Literal["progress", "ended"]
    stage: str | None = Field(description="ELBO, IWAE bound, exact log p(x) or FID; null once ended")
    fraction: float | None = Field(
        description="of the whole evaluation done; when ended, 1 if the model has an evaluation, else null"
    )


class TrainingHistory(BaseModel):
    model_id: str
    epochs: list[EpochRecord] = Field(description="per epoch: train_* and test_* losses in nats")


class LatentEvolution(BaseModel):
    """Where a fixed subset of test images sat on the map after each epoch (a long run's thinned evenly)."""

    model_id: str
    index: list[int] = Field(description="test image indices")
    label: list[int]
    epochs: list[int] = Field(
        description=f"the epochs kept: every one up to {MAX_SNAPSHOTS}, then that many evenly spaced"
    )
    x: list[list[float]] = Field(description="per epoch, per image")
    y: list[list[float]]


class DecisionMap(BaseModel):
    """The classifier's reading of decoded images over a grid of the map: label[i][j] at (x[j], y[i])."""

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
    left_out: str | None = Field(
        None, description="why a trained model is off the curve: its nats are not comparable with the others'"
    )


class Sweep(BaseModel):
    """The beta sweep from reconstruction-only to KL-only: its rate-distortion curve."""

    points: list[SweepPoint]
    command: str = Field(description="what trains the missing models")
