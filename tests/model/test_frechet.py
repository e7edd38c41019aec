import pytest
import torch

from model.frechet import GaussianStats, frechet_distance


def _random_cov(dim: int, generator: torch.Generator) -> torch.Tensor:
    a = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
    return a @ a.T + 0.1 * torch.eye(dim, dtype=torch.float64)


def test_frechet_distance_of_a_distribution_to_itself_is_zero() -> None:
    features = torch.randn(500, 8, generator=torch.Generator().manual_seed(0))
    stats = GaussianStats.of(features)
    assert frechet_distance(stats, stats) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_diagonal_gaussians_has_the_closed_form() -> None:
    # With diagonal covariances, Eq. 31 reduces to sum_d (m1 - m2)^2 + (s1 - s2)^2.
    m1, m2 = torch.tensor([0.0, 1.0, -2.0]), torch.tensor([1.0, 1.0, 0.5])
    s1, s2 = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([3.0, 0.5, 0.5])
    a = GaussianStats(m1.double(), torch.diag(s1.double() ** 2))
    b = GaussianStats(m2.double(), torch.diag(s2.double() ** 2))
    expected = float(((m1 - m2) ** 2).sum() + ((s1 - s2) ** 2).sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_matches_the_eigenvalues_of_the_unsymmetric_product() -> None:
    # An independent route to Tr((S1 S2)^(1/2)): the eigenvalues of S1 S2 are real and >= 0, and the
    # trace of its square root is the sum of their square roots.
    generator = torch.Generator().manual_seed(1)
    s1, s2 = _random_cov(6, generator), _random_cov(6, generator)
    m1 = torch.randn(6, generator=generator, dtype=torch.float64)
    m2 = torch.randn(6, generator=generator, dtype=torch.float64)
    trace_root = torch.linalg.eigvals(s1 @ s2).real.clamp(min=0).sqrt().sum()
    expected = float((m1 - m2).pow(2).sum() + s1.trace() + s2.trace() - 2 * trace_root)
    a, b = GaussianStats(m1, s1), GaussianStats(m2, s2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_rejects_mismatched_or_too_few_features() -> None:
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(GaussianStats.of(torch.randn(10, 3)), GaussianStats.of(torch.randn(10, 4)))
    with pytest.raises(ValueError, match="N >= 2"):
        GaussianStats.of(torch.randn(1, 3))
