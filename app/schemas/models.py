"""What is served: models, data sets, the health check and a model's latent map."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from model.data import MapSplit
from model.inference import OriginKind
from model.likelihoods import LikelihoodName
from model.planes import PlaneMethod


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
    """Test-set figures recorded when training ended, in nats per image."""

    neg_elbo: float
    reconstruction_nll: float
    kl: float
    kl_per_dim: list[float]
    active_units: int


class ModelOrigin(BaseModel):
    kind: OriginKind = Field(
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
    label: str = Field(
        description="how the model pickers name it: its group first when models of several groups are "
        "served, '(PCA plane)' above two dimensions, '(your model)' for one built by the user's own code"
    )
    coordinate_limit: float = Field(description="the largest |coordinate| this model decodes")
    likelihood: LikelihoodName = Field(
        description="p(x|z): its nats compare only with those of models of one likelihood and data set"
    )
    likelihood_label: str = Field(
        description='the likelihood named, as figures show it ("Gaussian, sigma = 0.1")'
    )
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


class MapPlaneInfo(BaseModel):
    method: PlaneMethod = Field(description="pca: exact (the identity for 2-D models); umap or tsne")
    title: str
    lift: str = Field(description="how a map point becomes the latent it decodes, in words")
    latent_plane: bool = Field(description="the map is a 2-D model's latent plane itself")


class FactorSummary(BaseModel):
    name: str
    values: list[str] = Field(description="the values it takes, as they are named, in index order")


class DatasetSummary(BaseModel):
    key: str
    title: str
    image_shape: list[int] = Field(description="channels, height, width")
    class_names: list[str]
    labelled: bool = Field(description="false: one folder of unlabelled images; class figures are empty")
    drawable: bool = Field(description="drawing with a pen makes an image like this data set's")
    note: str = Field(description="what a user should know, e.g. that the images are synthetic")
    factors: list[FactorSummary] = Field(
        description="its known factors of variation (sprites'); empty for a set whose factors are unknown"
    )
    train_size: int
    test_size: int


class DensityInfo(BaseModel):
    total: int = Field(description="points on the map")
    bounds: list[float] = Field(description="[x0, x1, y0, y1]: the square zoom 0's one tile covers")
    tile_pixels: int
    region_limit: int = Field(description="a view holding no more points than this is drawn as points")


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
    sigma_x: list[float] | None = Field(
        description="q(z|x)'s standard deviation along x (null on a nonlinear plane: no ellipses there)"
    )
    sigma_y: list[float] | None
    coordinate_limit: float = Field(description="the largest |coordinate| a map point of this plane may have")
    plane: MapPlaneInfo
    projection: Projection | None = Field(None, description="the PCA plane, for latent_dim > 2")
    density: DensityInfo | None = Field(
        None,
        description="a map too large to draw point by point: its points are not listed (x, y, label and "
        "index are empty); GET .../map/view says what to draw for a view",
    )
    factors: dict[str, list[int]] = Field(
        default_factory=dict,
        description="for a set of known factors (sprites): factor name -> each point's value, an index into "
        "the data set's values of it (GET /api/datasets names them)",
    )
