"""A model's latent dimensions: the list ordered by KL, and one dimension's profile over the test images."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.latents import LatentDimension


class Dimensions(BaseModel):
    """Every latent dimension of a model, the one carrying the most KL first."""

    model_id: str
    latent_dim: int
    active_units: int
    dimensions: list[LatentDimension]


class ExtremeImage(BaseModel):
    index: int = Field(description="a test image")
    value: float = Field(description="its posterior mean along the dimension")


class ClassCorrelation(BaseModel):
    label: int
    name: str
    r: float = Field(
        description="Pearson's r of the posterior mean along the dimension with the class's 0/1 indicator"
    )


class FactorInformation(BaseModel):
    name: str
    information: float = Field(
        description="I(z_d; factor) / H(factor) over the test images, the means cut in 20 bins (MIG's)"
    )


class DimensionProfile(BaseModel):
    """One latent dimension over the test images: how much each image's posterior spends on it, the
    images at its two ends, and how it goes with each class."""

    model_id: str
    dataset: str = Field(description="the data set whose test images the indices name")
    dimension: LatentDimension
    rank: int = Field(description="its place by KL: 1 is the dimension carrying the most")
    kl_edges: list[float] = Field(description="the KL histogram's bin edges, nats (bins + 1)")
    kl_counts: list[int] = Field(description="test images whose KL(q(z_d|x) || N(0, 1)) falls in each bin")
    highest: list[ExtremeImage] = Field(
        description="the test images with the highest posterior means, highest first"
    )
    lowest: list[ExtremeImage] = Field(description="those with the lowest, lowest first")
    class_correlation: list[ClassCorrelation] = Field(description="empty for an unlabelled data set")
    factor_information: list[FactorInformation] = Field(
        description="for a data set of known factors (sprites): how much of each factor the dimension carries"
    )
