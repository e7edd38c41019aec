"""The Frechet distance between two feature distributions, each summarised as a Gaussian (tutorial Eq. 31):

    FID = ||mu_r - mu_g||^2 + Tr(Sigma_r + Sigma_g - 2 (Sigma_r Sigma_g)^(1/2)).

Sigma_r Sigma_g is not symmetric, so its square root is taken the stable way: it is similar to
S = Sigma_r^(1/2) Sigma_g Sigma_r^(1/2), which is symmetric positive semi-definite, and the trace of
(Sigma_r Sigma_g)^(1/2) is the sum of the square roots of S's eigenvalues. Everything runs in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GaussianStats:
    """Mean [F] and covariance [F, F] of a set of feature vectors, in float64."""

    mean: torch.Tensor
    cov: torch.Tensor

    @classmethod
    def of(cls, features: torch.Tensor) -> GaussianStats:
        """features: [N, F] with N >= 2."""
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"features must be [N, F] with N >= 2, got {list(features.shape)}")
        f = features.detach().cpu().double()
        return cls(mean=f.mean(dim=0), cov=torch.cov(f.T))


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix; round-off negatives become 0."""
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    root: torch.Tensor = (eigenvectors * eigenvalues.clamp(min=0).sqrt()) @ eigenvectors.T
    return root


def frechet_distance(real: GaussianStats, generated: GaussianStats) -> float:
    """The Frechet distance between N(real.mean, real.cov) and N(generated.mean, generated.cov)."""
    if real.mean.shape != generated.mean.shape:
        raise ValueError(f"feature sizes differ: {list(real.mean.shape)} vs {list(generated.mean.shape)}")
    root_real = _sqrt_psd(real.cov)
    similar = root_real @ generated.cov @ root_real
    trace_root = torch.linalg.eigvalsh((similar + similar.T) / 2).clamp(min=0).sqrt().sum()
    distance = (
        (real.mean - generated.mean).pow(2).sum() + real.cov.trace() + generated.cov.trace() - 2 * trace_root
    )
    return max(float(distance), 0.0)
