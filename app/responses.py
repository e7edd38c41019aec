"""Response bodies more than one module builds: a model's map (serialised once: the largest response, and
the same for every visitor), decoded points, and the summaries of a served model and of a data set."""

from __future__ import annotations

import json
from typing import Any

import torch

from app.density_state import REGION_LIMIT
from app.images import png_data_urls
from app.registry import ModelRegistry
from app.schemas.latents import DecodedPoints
from app.schemas.models import DatasetSummary, FactorSummary, ModelSummary
from app.served_model import ServedModel
from model.data import Dataset, MapSplit
from model.density import TILE_PIXELS, DensityMap
from model.planes import PLANE_TITLES, NonlinearPlane, lift_description


def map_body(
    served: ServedModel,
    split: MapSplit,
    limit: int,
    plane: NonlinearPlane | None = None,
    density: DensityMap | None = None,
) -> bytes:
    """The map response for the first `limit` points of a split, on its exact plane or on a UMAP or t-SNE
    `plane` of the split, serialised once: it is the largest response and the same for every visitor. A
    split drawn as `density` lists no points: what a view holds is asked for view by view."""
    latent_map = served.map_of(split)
    shown = 0 if density is not None else min(limit, len(latent_map))
    method = "pca" if plane is None else plane.method
    key = f"map:{split}:{shown}:{method}"
    cached = served.responses.get(key)
    if cached is None:
        xy = (latent_map.xy if plane is None else plane.xy)[:shown]
        sigma_xy = latent_map.sigma_xy[:shown] if plane is None else None  # no ellipse on a nonlinear plane
        held = len(latent_map) if density is not None else shown  # the points the positions count
        tests = {"test": held, "train": 0, "all": min(held, len(served.latent_map))}[split]
        exact = latent_map.plane
        body = {  # LatentMap's fields (the schema tests check the response against it)
            "model_id": served.model_id,
            "dataset": served.dataset.info.key,
            "class_names": list(served.dataset.info.class_names),
            "split": split,
            "test_points": tests,
            "x": rounded(xy[:, 0]),
            "y": rounded(xy[:, 1]),
            "label": latent_map.labels[:shown].tolist(),
            "index": [] if density is not None else [*range(tests), *range(shown - tests)],
            "sigma_x": None if sigma_xy is None else rounded(sigma_xy[:, 0]),
            "sigma_y": None if sigma_xy is None else rounded(sigma_xy[:, 1]),
            # what decoding accepts, any split: the latent's limit, or the nonlinear plane's extent
            "coordinate_limit": served.latent_map.coordinate_limit if plane is None else plane.limit,
            "plane": {
                "method": method,
                "title": "latent plane" if exact.is_identity else PLANE_TITLES[method],
                "lift": lift_description("latent" if exact.is_identity else method),
                "latent_plane": exact.is_identity,
            },
            "projection": None
            if plane is not None or exact.is_identity
            else {"mean": exact.mean.tolist(), "components": exact.components.tolist()},
            "density": None if density is None else density_info(density),
            "factors": _factor_columns(served, tests, shown),
        }
        cached = served.responses[key] = json.dumps(body, separators=(",", ":")).encode()
    return cached


def _factor_columns(served: ServedModel, tests: int, shown: int) -> dict[str, list[int]]:
    """Each shown point's value of each known factor (an index into the factor's values), test points
    first as the map lists them; empty for a set whose factors are not known."""
    test, train = served.dataset.test.factors, served.dataset.train.factors
    if test is None or train is None or shown == 0:
        return {}
    values = torch.cat([test[:tests], train[: shown - tests]])
    return {factor.name: values[:, k].tolist() for k, factor in enumerate(served.dataset.info.factors)}


def rounded(values: torch.Tensor) -> list[float]:
    """Map coordinates [N] as a response lists them: to 4 decimals (a hundredth of a pixel on any map)."""
    return [round(v, 4) for v in values.tolist()]


def region_points(density: DensityMap, positions: torch.Tensor) -> dict[str, list[Any]]:
    """The points at `positions` of a map drawn as density: ViewPoints's fields."""
    xy = density.xy[positions]
    return {
        "x": rounded(xy[:, 0]),
        "y": rounded(xy[:, 1]),
        "label": density.labels[positions].tolist(),
        "position": positions.tolist(),
    }


def density_info(density: DensityMap) -> dict[str, object]:
    """DensityInfo's fields for a map drawn as density."""
    box = density.bounds
    return {
        "total": len(density),
        "bounds": [box.x0, box.x1, box.y0, box.y1],
        "tile_pixels": TILE_PIXELS,
        "region_limit": REGION_LIMIT,
    }


def decoded_points(served: ServedModel, z: torch.Tensor, images: torch.Tensor) -> DecodedPoints:
    """Latents [B, D] with their map points and decoded images [B, C, H, W]."""
    return DecodedPoints(
        z=z.tolist(), map_xy=served.latent_map.plane.project(z).tolist(), images=png_data_urls(images)
    )


def _summary(served: ServedModel) -> dict[str, Any]:
    loaded, info = served.loaded, served.loaded.checkpoint
    binarized = info is not None and info.train_config.binarized  # its nats are on another scale
    trained_here = (
        {
            "loss": info.train_config.loss,
            "beta": info.train_config.kl_weight,
            "iwae_k": info.train_config.iwae_k,
            "objective": info.train_config.objective_title,
            "binarized": info.train_config.binarized,
            "architecture": info.model_config.architecture,
            "epochs": info.epochs_completed,
            "test_metrics": info.metrics,
        }
        if info is not None
        else {}
    )
    return {
        "id": served.model_id,
        "title": loaded.title,
        "origin": {"kind": loaded.origin.kind, "source": loaded.origin.source},
        "latent_dim": loaded.latent_dim,
        "dataset": served.dataset.info.key,
        "group": served.dataset.info.title + (", binarized" if binarized else ""),
        "coordinate_limit": served.latent_map.coordinate_limit,
        "likelihood": loaded.network.likelihood.name,
        "likelihood_label": loaded.network.likelihood_label,
        **trained_here,
    }


def model_summaries(registry: ModelRegistry) -> list[ModelSummary]:
    """The served models as /api/models lists them and the pages' pickers show them, each with its label:
    its group first when models of several groups are served (a closed picker shows no group), then its
    title, "(PCA plane)" above two dimensions and "(your model)" for one built by the user's own code."""
    summaries = [_summary(served) for served in registry.models.values()]
    grouped = len({summary["group"] for summary in summaries}) > 1
    for summary in summaries:
        marks = [" (PCA plane)" if summary["latent_dim"] > 2 else ""]
        marks.append(" (your model)" if summary["origin"]["kind"] != "checkpoint" else "")
        summary["label"] = (f"{summary['group']}: " if grouped else "") + summary["title"] + "".join(marks)
    return [ModelSummary.model_validate(summary) for summary in summaries]


def dataset_summary(dataset: Dataset) -> DatasetSummary:
    """A prepared data set as /api/datasets and the pages describe it."""
    info = dataset.info
    return DatasetSummary(
        key=info.key,
        title=info.title,
        image_shape=list(info.image_shape),
        class_names=list(info.class_names),
        labelled=info.labelled,
        drawable=info.drawable,
        note=info.note,
        factors=[FactorSummary(name=factor.name, values=list(factor.values)) for factor in info.factors],
        train_size=len(dataset.train),
        test_size=len(dataset.test),
    )
