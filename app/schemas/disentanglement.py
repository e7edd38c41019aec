"""Disentanglement scores: how far a model's computation is, the model's scores with their spread over the
seeds of its recipe, and a data set's sweep of models."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.background import ComputationState
from app.schemas.progress import ComputationProgress
from model.config import LossMode


class DisentanglementProgress(ComputationProgress):
    model_id: str


class Metric(BaseModel):
    name: str
    title: str
    description: str


class SeedSpread(BaseModel):
    mean: float
    standard_error: float | None = Field(description="of the mean over the seeds; null for one seed")
    seeds: int


class ModelDisentanglement(BaseModel):
    model_id: str
    factors: list[str] = Field(description="the data set's factors of variation, in the matrices' order")
    metrics: list[Metric] = Field(description="what each score is, in the order the pages show them")
    figures: dict[str, float] = Field(description="score name -> this model's score")
    information: list[list[float]] = Field(
        description="[D][K]: the mutual information of each latent dimension with each factor, over the "
        "factor's entropy (MIG's matrix)"
    )
    importance: list[list[float]] = Field(description="[D][K]: DCI's feature importances")
    reconstruction_nll: float | None = Field(description="the test images' reconstruction term, nats")
    seed_models: list[str] = Field(
        description="the served models trained as this one but for the seed, scored (this one included)"
    )
    seeds: dict[str, SeedSpread] = Field(description="score name -> its mean and spread over seed_models")


class SweepModel(BaseModel):
    model_id: str
    title: str
    loss: LossMode | None = Field(description="what it was trained on; null for a model of your own code")
    beta: float | None = Field(
        description="the weight of the KL (beta-VAE) or of the total correlation (beta-TCVAE, FactorVAE); 1 "
        "for a VAE"
    )
    seed: int | None
    reconstruction_nll: float | None
    state: ComputationState
    figures: dict[str, float] | None = Field(description="its scores once computed")


class DisentanglementSweep(BaseModel):
    dataset: str
    metrics: list[Metric]
    models: list[SweepModel]
