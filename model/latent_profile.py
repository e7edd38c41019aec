"""One latent dimension across a data split: how much it carries (KL(q(z_d|x) || N(0, 1)) of each image, as
a histogram), the images whose posterior means push it highest and lowest, and how it goes with each class
(Pearson's r between the posterior mean z_d and the class's indicator, the point-biserial correlation),
and, where the data set's factors of variation are known, how much of each the posterior mean carries
(their mutual information over the factor's entropy, as MIG measures it)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.disentanglement import normalised_information
from model.vae import DiagonalGaussian

EXTREMES = 8  # images shown at each end
BINS = 40  # of the KL histogram


@dataclass(frozen=True)
class LatentProfile:
    """Dimension `dim` over N images: the KL histogram (bins + 1 edges, bins counts), the positions of the
    images with the highest and the lowest posterior mean (most extreme first) and r with each class."""

    dim: int
    kl_edges: list[float]
    kl_counts: list[int]
    highest: list[int]
    lowest: list[int]
    class_correlation: list[float]
    factor_information: list[float]  # I(z_d; factor) / H(factor) per known factor (MIG's measure), or []


def _correlations(values: torch.Tensor, labels: torch.Tensor, class_count: int) -> list[float]:
    """Pearson's r of values [N] with each class's 0/1 indicator; 0 where either does not vary."""
    indicators = torch.nn.functional.one_hot(labels, class_count).double()  # [N, C]
    centred = values.double() - values.double().mean()
    indicators = indicators - indicators.mean(dim=0)
    covariance = centred @ indicators  # [C], times N
    scale = centred.norm() * indicators.norm(dim=0)
    r = torch.where(scale > 0, covariance / scale.clamp(min=1e-300), torch.zeros_like(scale))
    return [float(value) for value in r]


def latent_profile(
    mu: torch.Tensor,
    sigma: torch.Tensor,
    labels: torch.Tensor,
    class_count: int,
    dim: int,
    *,
    factors: torch.Tensor | None = None,
    extremes: int = EXTREMES,
    bins: int = BINS,
) -> LatentProfile:
    """The profile of dimension `dim` of the posteriors N(mu, diag(sigma^2)), mu and sigma [N, D], of
    images with labels [N] in 0..class_count - 1 (class_count 0: an unlabelled set, no correlations) and,
    for a set of known factors, their values [N, K]: how much of each factor the posterior mean carries."""
    if mu.ndim != 2 or mu.shape != sigma.shape or labels.shape != mu.shape[:1]:
        raise ValueError(
            "need mu, sigma [N, D] and labels [N], "
            f"got {list(mu.shape)}, {list(sigma.shape)} and {list(labels.shape)}"
        )
    if not 0 <= dim < mu.shape[1]:
        raise ValueError(f"dimension {dim} is out of range (0..{mu.shape[1] - 1})")
    values = mu[:, dim]
    kl = DiagonalGaussian(
        mu[:, dim : dim + 1].double(), 2 * sigma[:, dim : dim + 1].double().log()
    ).kl_per_dim()[:, 0]
    low, high = float(kl.min()), float(kl.max())
    if high - low < 1e-9:  # a dimension every image leaves at the same KL (a dead one: ~0)
        low, high = low - 0.5, high + 0.5
    counts, edges = torch.histogram(kl.cpu(), bins=bins, range=(low, high))
    k = min(extremes, len(values))
    return LatentProfile(
        dim=dim,
        kl_edges=edges.tolist(),
        kl_counts=[int(count) for count in counts],
        highest=values.topk(k).indices.tolist(),
        lowest=(-values).topk(k).indices.tolist(),
        class_correlation=_correlations(values, labels, class_count) if class_count else [],
        factor_information=[]
        if factors is None
        else normalised_information(values[:, None].double().numpy(), factors.numpy())[0].tolist(),
    )
