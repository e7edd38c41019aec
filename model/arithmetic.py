"""Latent arithmetic: an attribute vector is the mean encoding of one group of images minus that of
another (White, 2016, "Sampling Generative Networks"; "smile vectors"), and adding it, scaled by a strength,
to any encoding moves that image towards the first group. Groups are classes or selections."""

from __future__ import annotations

import torch


def group_mean(mu: torch.Tensor, members: torch.Tensor) -> torch.Tensor:
    """The mean of the posterior means mu: [N, D] over the indices `members` [M] (M >= 1): [D]."""
    if len(members) == 0:
        raise ValueError("a group needs at least one member")
    return mu[members].mean(dim=0)


def with_attribute(z: torch.Tensor, vector: torch.Tensor, strengths: torch.Tensor) -> torch.Tensor:
    """z + s * vector for each strength s: z, vector [D], strengths [S] -> [S, D]."""
    return z[None, :] + strengths[:, None] * vector[None, :]
