"""One latent dimension's profile against independent computations: the extremes are the encodings'
extremes, the KL histogram counts torch.distributions' KL, the correlations are numpy's corrcoef."""

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from model.latent_profile import latent_profile


def encodings(n: int = 500, d: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(3, (n,), generator=generator)
    mu = torch.randn(n, d, generator=generator)
    mu[:, 1] += 2.0 * (labels == 2)  # dimension 1 says "class 2"
    mu[:, 3] = 0.0  # a dead dimension: every image at the prior's mean...
    sigma = 0.2 + torch.rand(n, d, generator=generator)
    sigma[:, 3] = 1.0  # ...with the prior's width
    return mu, sigma, labels


def test_the_extremes_are_the_encodings_extremes() -> None:
    mu, sigma, labels = encodings()
    profile = latent_profile(mu, sigma, labels, 3, 1, extremes=5)
    order = mu[:, 1].numpy().argsort()
    assert profile.highest == order[::-1][:5].tolist()
    assert profile.lowest == order[:5].tolist()


def test_the_kl_histogram_counts_each_image_s_kl() -> None:
    mu, sigma, labels = encodings()
    profile = latent_profile(mu, sigma, labels, 3, 0, bins=10)
    kl = kl_divergence(Normal(mu[:, 0].double(), sigma[:, 0].double()), Normal(0.0, 1.0)).numpy()
    counts, _ = np.histogram(kl, bins=np.array(profile.kl_edges))
    assert profile.kl_counts == counts.tolist() and sum(profile.kl_counts) == len(mu)
    assert profile.kl_edges[0] == pytest.approx(kl.min()) and profile.kl_edges[-1] == pytest.approx(kl.max())


def test_the_class_correlations_are_pearson_s_r_and_a_dead_dimension_has_none() -> None:
    mu, sigma, labels = encodings()
    profile = latent_profile(mu, sigma, labels, 3, 1)
    expected = [np.corrcoef(mu[:, 1].numpy(), (labels == c).numpy())[0, 1] for c in range(3)]
    assert profile.class_correlation == pytest.approx(expected, abs=1e-9)
    assert profile.class_correlation[2] > 0.6  # the dimension that says "class 2"
    dead = latent_profile(mu, sigma, labels, 3, 3)
    assert dead.class_correlation == [0.0, 0.0, 0.0] and sum(dead.kl_counts) == len(mu)
    assert latent_profile(mu, sigma, labels, 0, 1).class_correlation == []  # an unlabelled set


def test_a_dimension_out_of_range_is_refused() -> None:
    mu, sigma, labels = encodings()
    with pytest.raises(ValueError, match=r"dimension 4 is out of range \(0..3\)"):
        latent_profile(mu, sigma, labels, 3, 4)


def test_with_known_factors_a_dimension_carries_all_of_its_own_factor_and_none_of_another() -> None:
    generator = torch.Generator().manual_seed(1)
    factors = torch.stack(
        [torch.randint(4, (2000,), generator=generator), torch.randint(6, (2000,), generator=generator)], 1
    )
    mu = torch.stack([factors[:, 0].float(), torch.randn(2000, generator=generator)], dim=1)  # z1 is factor 0
    sigma = torch.full_like(mu, 0.5)
    profile = latent_profile(mu, sigma, factors[:, 0], 4, 0, factors=factors)
    assert profile.factor_information[0] == pytest.approx(1.0, abs=1e-9)
    assert profile.factor_information[1] < 0.01
    assert latent_profile(mu, sigma, factors[:, 0], 4, 0).factor_information == []  # factors unknown
