"""/api/models/{id}/dimensions: a model's latent dimensions by KL, and one dimension's profile over the
test images (its KL histogram, the images at its two ends, its correlation with each class)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from starlette.concurrency import run_in_threadpool

from app.deps import ModelDep
from app.latents import dimension_of
from app.schemas.dimensions import (
    ClassCorrelation,
    DimensionProfile,
    Dimensions,
    ExtremeImage,
    FactorInformation,
)
from app.schemas.errors import ERROR_RESPONSES
from app.served_model import ServedModel
from model.latent_profile import latent_profile

router = APIRouter(prefix="/api/models", tags=["traversal"], responses=ERROR_RESPONSES)


@router.get("/{model_id}/dimensions")
async def dimensions(served: ModelDep) -> Dimensions:
    """Every latent dimension with its mean KL over the test images and whether it is active, the one
    carrying the most KL first."""
    use = served.dimension_use
    return Dimensions(
        model_id=served.model_id,
        latent_dim=served.loaded.latent_dim,
        active_units=int(use.active.sum()),
        dimensions=[dimension_of(served, dim) for dim in use.order()],
    )


def _profile(served: ServedModel, dim: int) -> DimensionProfile:
    latent_map, info = served.latent_map, served.dataset.info
    class_count = len(info.class_names) if info.labelled else 0
    factors = served.dataset.test.factors  # the map's points are the test split's, in order
    profile = latent_profile(
        latent_map.mu, latent_map.sigma, latent_map.labels, class_count, dim, factors=factors
    )
    values = latent_map.mu[:, dim]
    return DimensionProfile(
        model_id=served.model_id,
        dataset=info.key,
        dimension=dimension_of(served, dim),
        rank=served.dimension_use.order().index(dim) + 1,
        kl_edges=profile.kl_edges,
        kl_counts=profile.kl_counts,
        highest=[ExtremeImage(index=i, value=float(values[i])) for i in profile.highest],
        lowest=[ExtremeImage(index=i, value=float(values[i])) for i in profile.lowest],
        class_correlation=[
            ClassCorrelation(label=label, name=info.class_names[label], r=r)
            for label, r in enumerate(profile.class_correlation)
        ],
        factor_information=[
            FactorInformation(name=factor.name, information=information)
            for factor, information in zip(info.factors, profile.factor_information, strict=True)
        ],
    )


@router.get("/{model_id}/dimensions/{dim}")
async def dimension_profile(
    served: ModelDep, dim: Annotated[int, Path(ge=0, description="the latent dimension, 0-based")]
) -> DimensionProfile:
    """One latent dimension over the test images: the histogram of each image's KL(q(z_d|x) || N(0, 1)),
    the images whose posterior means are highest and lowest along it, and Pearson's r of that mean with
    each class (the point-biserial correlation)."""
    if dim >= served.loaded.latent_dim:
        raise HTTPException(
            404, f"{served.model_id} has no dimension {dim} (0..{served.loaded.latent_dim - 1})"
        )
    return await run_in_threadpool(_profile, served, dim)
