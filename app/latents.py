"""A point in latent space as a request names it (an `Endpoint`): a test image's encoding, a latent
vector, a map point, an image's encoding or a class's most typical image. Interpolation's ends,
traversals' centres and latent arithmetic's targets are all named this way. And a latent dimension as a
response names it."""

from __future__ import annotations

import torch
from fastapi import HTTPException

from app.params import check_latent, check_point
from app.schemas.latents import Endpoint, LatentDimension
from app.served_model import ServedModel
from app.uploads import prepared_data_url
from model.traversal import dimension_name


def class_index(served: ServedModel, label: str, where: str) -> int:
    """The index of the class named `label` in the model's data set, or the 422 listing the classes."""
    names = served.dataset.info.class_names
    if label not in names:
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise HTTPException(422, f"{where}.label: {label!r} is not a class of this model's data ({shown})")
    return names.index(label)


def latent_of(served: ServedModel, end: Endpoint, where: str) -> torch.Tensor:
    """The latent z: [D] that `end` names, or the 4xx (prefixed by `where`) saying what was wrong."""
    latent_map = served.latent_map
    if end.index is not None:
        split_map = served.map_of(end.split)  # the training split's is encoded on first use
        if not 0 <= end.index < len(split_map):
            noun = served.noun(end.split)
            raise HTTPException(404, f"{where}: no {noun} {end.index} (0..{len(split_map) - 1})")
        return split_map.mu[end.index]
    if end.z is not None:
        return torch.tensor(check_latent(latent_map, end.z, f"{where}.z"))
    if end.point is not None:
        if len(end.point) != 2:
            raise HTTPException(422, f"{where}.point: give [x, y], got {len(end.point)} values")
        return latent_map.latents_of([check_point(latent_map, end.point, f"{where}.point")])[0]
    if end.label is not None:
        try:
            return latent_map.mu[latent_map.typical(class_index(served, end.label, where))]
        except ValueError as error:
            raise HTTPException(404, f"{where}.label: {error}") from error
    image = prepared_data_url(end.image or "", f"{where}.image", served)
    return served.loaded.encode(image[None])[0][0]


def dimension_of(served: ServedModel, dim: int) -> LatentDimension:
    """Dimension `dim` (0-based, in range) of the model's latent, with how much it is used."""
    use = served.dimension_use
    return LatentDimension(
        dim=dim,
        name=dimension_name(dim, served.loaded.network.latent_shape),
        kl=float(use.kl[dim]),
        activity=float(use.activity[dim]),
        active=bool(use.active[dim]),
    )
