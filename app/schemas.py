"""Request and response bodies of the REST contract (documented at /docs)."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, create_model, model_validator

from app.params import Coordinate
from model.config import MAX_SNAPSHOTS, Architecture, LossMode
from model.data import MapSplit, Split
from model.evaluation import FIELD_DESCRIPTIONS, Evaluation
from model.home import check_model_id
from model.traversal import EXTENT as TRAVERSAL_EXTENT
from model.traversal import STEPS as TRAVERSAL_STEPS

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
    training: list[str] = Field(
        default_factory=list, description="models (and data sets' classifiers) queued or training"
    )
    device: str
    problems: dict[str, str] = Field(default_factory=dict, description="model id -> why it is not served")
    process: int = Field(description="the id of the server process that answered (one of serve --workers N)")


class ModelMetrics(BaseModel):
    """Test-set figures recorded when training ended, in nats per digit."""

    neg_elbo: float
    reconstruction_nll: float
    kl: float
    kl_per_dim: list[float]
    active_units: int


class ModelOrigin(BaseModel):
    kind: Literal["checkpoint", "factory", "notebook"] = Field(
        description="trained here (a model folder), built by a factory named on the command line "
        "(serve --model), or given to latent_atlas.explore() in a notebook"
    )
    source: str = Field(description="the model folder, the factory (module:factory), or the model's class")


class ModelSummary(BaseModel):
    """A served model; what it was trained with is known for the models trained here only (null for a
    model built by the user's own code)."""

    id: str
    title: str
    origin: ModelOrigin
    latent_dim: int
    dataset: str = Field(description="the key of its data set (see /api/datasets)")
    group: str = Field(
        description="the group the model pickers list it under: its data set, binarized models apart"
    )
    coordinate_limit: float = Field(description="the largest |coordinate| this model decodes")
    loss: str | None = None
    beta: float | None = None
    iwae_k: int | None = Field(None, description="the bound it was trained on: 1 for the ELBO, k for IWAE")
    objective: str | None = Field(None, description='what training maximised, named ("IWAE, k = 50")')
    binarized: bool | None = Field(
        None, description="trained and measured on binarized images: its nats compare only with such models'"
    )
    architecture: Literal["mlp", "conv"] | None = None
    epochs: int | None = None
    test_metrics: ModelMetrics | None = None


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
    split: MapSplit
    test_points: int = Field(description="the first test_points points are test images, the rest training")
    x: list[float]
    y: list[float]
    label: list[int]
    index: list[int] = Field(description="each point's index in its own split")
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
    """A point in latent space (an interpolation's end, a traversal's centre): give exactly one of index,
    z, point, image or label."""

    index: StrictInt | None = Field(None, description="an image of `split`")
    split: Split = Field("test", description="the split `index` is in")
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


MAX_TRAVERSAL_ROWS = 64


class TraversalRequest(BaseModel):
    """Which traversal grid to decode: around what, how many dimensions, how many steps, how far."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"centre": {"index": 3}, "steps": 9}, {}]})
    centre: Endpoint | None = Field(None, description="the point traversed around; none: the prior mean, 0")
    rows: int | None = Field(
        None,
        ge=1,
        le=MAX_TRAVERSAL_ROWS,
        strict=True,
        description=f"the highest-KL dimensions to show (default: all, up to {MAX_TRAVERSAL_ROWS})",
    )
    steps: int = Field(TRAVERSAL_STEPS, ge=MIN_STEPS, le=MAX_STEPS, strict=True, description="columns")
    extent: Coordinate = Field(
        TRAVERSAL_EXTENT, gt=0, le=10, description="prior standard deviations either side of the centre"
    )


class TraversedDimension(BaseModel):
    """One row of a traversal: the dimension moved, how much it is used, and what it decodes to."""

    dim: int = Field(description="the latent dimension (0-based)")
    kl: float = Field(description="its mean KL(q(z_d|x) || N(0, 1)) over the test split, nats")
    activity: float = Field(description="Cov_x(E_q[z_d]) over the test split")
    active: bool = Field(description="activity > 0.01 (Burda et al.'s active units); false: a dead dimension")
    images: list[str] = Field(description="PNG data URLs, one per offset")


class LatentTraversal(BaseModel):
    """Traversals around `centre`: rows by decreasing KL, columns at centre + offset along the row's
    dimension."""

    centre: list[float]
    offsets: list[float]
    latent_dim: int
    active_units: int
    rows: list[TraversedDimension]


MAX_POINTS = 200_000  # of one map or selection: both splits of the largest data set (EMNIST: 131,600)


POSITIONS = "points of the map of `split` (for all: the test images, then the training images)"


class SelectionRequest(BaseModel):
    """Points of a map chosen by a lasso or a box: their positions on the map of a split."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"indices": [0, 3, 7], "split": "test"}]})
    indices: list[StrictInt] = Field(min_length=1, max_length=MAX_POINTS, description=POSITIONS)
    split: MapSplit = "test"


class SelectionSummary(BaseModel):
    """What a selection holds: its size, its classes, and its mean encoding decoded."""

    count: int = Field(description="distinct images selected")
    class_counts: list[int] = Field(description="members per class, in the data set's class order")
    mean_z: list[float] = Field(description="the members' mean posterior mean")
    mean_map_xy: list[float] = Field(description="where that mean sits on the map")
    mean_image: str = Field(description="the mean encoding decoded, a PNG data URL")


class Group(BaseModel):
    """A set of test images: a class, or a selection (indices). Give exactly one."""

    label: str | None = Field(None, description="a class name: every test image of that class")
    indices: list[StrictInt] | None = Field(
        None, min_length=1, max_length=MAX_POINTS, description=f"{POSITIONS}, e.g. a lasso's"
    )
    split: MapSplit = "test"

    @model_validator(mode="after")
    def _exactly_one(self) -> Group:
        if (self.label is None) == (self.indices is None):
            raise ValueError("give exactly one of label or indices")
        return self


class ArithmeticRequest(BaseModel):
    """Add the attribute vector mean(a) - mean(b), scaled from 0 to `strength`, to the encoding `to`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"a": {"label": "1"}, "b": {"label": "0"}, "to": {"label": "0"}, "strength": 1}]
        }
    )
    a: Group
    b: Group
    to: Endpoint
    strength: Coordinate = Field(1.0, ge=-5, le=5, description="the last step's multiple of the vector")
    steps: int = Field(7, ge=MIN_STEPS, le=MAX_STEPS, strict=True, description="points from 0 to strength")


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


class LatentArithmetic(DecodedPoints):
    """The strip to + s (mean(a) - mean(b)) for s from 0 to the strength, and the vector itself."""

    strengths: list[float]
    vector: list[float] = Field(description="mean(a) - mean(b), the attribute vector")
    norm: float = Field(description="its length")
    a_count: int = Field(description="members of group a")
    b_count: int = Field(description="members of group b")


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
    """Where a fixed subset of test digits sat on the map after each epoch (a long run's thinned evenly)."""

    model_id: str
    index: list[int] = Field(description="test digit indices")
    label: list[int]
    epochs: list[int] = Field(
        description=f"the epochs kept: every one up to {MAX_SNAPSHOTS}, then that many evenly spaced"
    )
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
    left_out: str | None = Field(
        None, description="why a trained model is off the curve: its nats are not comparable with the others'"
    )


class Sweep(BaseModel):
    """The beta sweep from reconstruction-only to KL-only: its rate-distortion curve."""

    points: list[SweepPoint]
    command: str = Field(description="what trains the missing models")


MAX_EPOCHS = 200
MAX_LATENT_DIM = 64
MAX_HIDDEN_LAYERS = 4
MAX_HIDDEN_WIDTH = 2048
MAX_IWAE_K = 100  # each step decodes k samples per image: the paper's largest is 50


class TrainingRequest(BaseModel):
    """A model to train: the zoo's recipe (Adam, batch 128, cosine-decayed learning rate) with these
    choices."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: Annotated[str, AfterValidator(check_model_id)] = Field(
        description="the new model's id: 1-64 lowercase letters, digits, '-' or '_'", examples=["beta-3-2d"]
    )
    title: str | None = Field(None, max_length=80, description="display name (default: from the choices)")
    dataset: str = Field("mnist", description="a data set key from /api/datasets")
    loss: LossMode = Field(
        "full",
        description="full ELBO, beta-weighted KL, reconstruction only, KL only, or the IWAE bound",
    )
    beta: float = Field(1.0, ge=0, le=100, description="the KL term's weight, with loss 'beta'")
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
    hidden: list[Annotated[int, Field(ge=1, le=MAX_HIDDEN_WIDTH)]] | None = Field(
        None,
        min_length=1,
        max_length=MAX_HIDDEN_LAYERS,
        description="the MLP's layer widths or the conv stages' channels (default: the architecture's)",
    )
    epochs: int = Field(10, ge=1, le=MAX_EPOCHS)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    train_limit: int | None = Field(None, ge=100, description="train on the first N training images only")
    replace: bool = Field(False, description="replace a served model of the same id when the job is done")


class ZooRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zoo: Literal["default", "beta"] = Field(description="the default models, or the beta sweep")
    dataset: str = Field("mnist", description="a data set key from /api/datasets")


class JobView(BaseModel):
    """A training job and where it stands."""

    id: int
    kind: Literal["model", "classifier"]
    model_id: str = Field(description="the model it trains, or for a classifier its data set's key")
    title: str
    dataset: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    message: str = Field(description="why it failed, or what became of a cancelled job's model")
    epochs: int
    epochs_completed: int
    created: str
    started: str | None
    ended: str | None
    cancelling: bool = Field(description="asked to stop; it ends after its current step")
    spec: dict[str, Any] = Field(description="everything it trains with: model and training configs")


class JobEvent(BaseModel):
    """One Server-Sent Event's data: `started` (the snapshot images' indices and labels), `epoch` (its
    losses, images/s and the snapshot images' latent means on the map plane), then one of `done`,
    `failed` (with `message`) or `cancelled` (with `kept`)."""

    model_config = ConfigDict(extra="allow")

    id: int
    type: Literal["started", "epoch", "done", "failed", "cancelled"]
