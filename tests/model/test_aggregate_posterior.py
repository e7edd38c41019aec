"""The aggregate posterior against the prior: the densities on the plane against quadrature across it (the
projection's marginal, computed independently in 3-D), the holes against Monte Carlo from the prior, the
two ends on trained models (a KL-only model's q(z) is the prior; a reconstruction-only model's is all
holes), and draws from q(z)."""

import math
from pathlib import Path

import pytest
import torch
from torch.distributions import Independent, Normal

from model.aggregate_posterior import (
    HOLE_RATIO,
    aggregate_draws,
    find_holes,
    holes_in_full_space,
    log_densities,
    region_radius,
)
from model.checkpoint import load_network
from model.data import ImageSet
from model.latent_map import MapPlane
from tests.conftest import posteriors


def random_plane(generator: torch.Generator) -> tuple[MapPlane, torch.Tensor]:
    """A plane in 3-D through a point off the origin, and its unit normal."""
    basis, _ = torch.linalg.qr(torch.randn(3, 3, generator=generator, dtype=torch.float64))
    return MapPlane(
        mean=torch.tensor([0.4, -0.3, 0.2], dtype=torch.float64), components=basis[:, :2].T
    ), basis[:, 2]


def marginal_by_quadrature(
    density: Independent | None,
    plane: MapPlane,
    normal: torch.Tensor,
    xy: torch.Tensor,
    mixture: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """The density of the projection onto the plane at map points xy [G, 2]: the 3-D density integrated
    along the plane's normal through each point's lift (trapezoid rule, t in [-12, 12])."""
    t = torch.linspace(-12, 12, 4801, dtype=torch.float64)
    z = plane.lift(xy)[:, None, :] + t[None, :, None] * normal  # [G, T, 3]
    if mixture is None:
        assert density is not None
        values = density.log_prob(z).exp()
    else:
        mu, sigma = mixture
        component = Independent(Normal(mu, sigma), 1)
        values = component.log_prob(z[:, :, None, :]).exp().mean(dim=2)  # [G, T]
    return torch.trapezoid(values, t, dim=1)


def test_plane_densities_are_the_marginals_of_q_and_p_across_the_plane() -> None:
    generator = torch.Generator().manual_seed(0)
    plane, normal = random_plane(generator)
    mu = torch.randn(30, 3, generator=generator, dtype=torch.float64)
    sigma = 0.2 + torch.rand(30, 3, generator=generator, dtype=torch.float64)
    xy = torch.randn(40, 2, generator=generator, dtype=torch.float64)
    log_q, log_p = log_densities(xy, mu, sigma, plane)
    prior = Independent(Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)), 1)
    assert torch.allclose(log_p.exp(), marginal_by_quadrature(prior, plane, normal, xy), rtol=1e-6)
    assert torch.allclose(
        log_q.exp(), marginal_by_quadrature(None, plane, normal, xy, (mu, sigma)), rtol=1e-6
    )


def test_on_a_2d_model_the_densities_are_q_and_p_themselves_however_narrow_q_is() -> None:
    """Half the posteriors as narrow as reconstruction-only training makes them (sigma 1e-7), evaluated
    within a few sigma of their means, where the fast expanded form would lose every digit."""
    generator = torch.Generator().manual_seed(1)
    mu = torch.randn(20, 2, generator=generator, dtype=torch.float64)
    sigma = 0.1 + torch.rand(20, 2, generator=generator, dtype=torch.float64)
    sigma[10:] = 1e-7
    z = torch.cat([2 * torch.randn(50, 2, generator=generator, dtype=torch.float64), mu[10:] + 2e-7])
    log_q, log_p = log_densities(z, mu, sigma, MapPlane.fit(mu))
    each = Independent(Normal(mu, sigma), 1).log_prob(z[:, None, :])  # [60, 20]
    assert torch.allclose(log_q, torch.logsumexp(each, dim=1) - math.log(20), rtol=1e-9, atol=1e-6)
    prior = Independent(Normal(torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)), 1)
    assert torch.allclose(log_p, prior.log_prob(z), atol=1e-12)


def test_an_aggregate_posterior_equal_to_the_prior_has_no_holes() -> None:
    mu, sigma = torch.zeros(5, 2), torch.ones(5, 2)
    holes = find_holes(mu, sigma, MapPlane.fit(mu))
    assert holes.holes == [] and holes.hole_mass == 0.0


def test_holes_hold_the_prior_mass_monte_carlo_finds_there() -> None:
    """Images encode only into the right half-plane: the left half of the prior's disc is one hole."""
    generator = torch.Generator().manual_seed(2)
    draws = torch.randn(6000, 2, generator=generator)
    mu = draws[draws[:, 0] > 0][:2000]
    sigma = torch.full_like(mu, 0.25)
    plane = MapPlane.fit(mu)
    found = find_holes(mu, sigma, plane)
    prior = torch.randn(100_000, 2, generator=generator)
    log_q, log_p = log_densities(prior, mu, sigma, plane)
    inside = prior.pow(2).sum(dim=1) <= region_radius() ** 2
    expected = float((inside & (log_q - log_p < math.log(HOLE_RATIO))).double().mean())
    assert expected > 0.3 and found.hole_mass == pytest.approx(expected, abs=0.01)
    (hole,) = found.holes
    assert hole.prior_mass == pytest.approx(found.hole_mass)
    assert -1.0 < hole.x < 0 and abs(hole.y) < 0.2  # where the prior is densest in the hole: by the axis
    assert hole.log_ratio < math.log(HOLE_RATIO)


def test_the_full_space_s_hole_mass_is_the_chi_square_tail_when_q_is_one_narrower_gaussian() -> None:
    """Every posterior N(0, s^2 I) in 5-D: log q/p = -5 log s - |z|^2 (1/s^2 - 1) / 2, so q/p < 0.1 exactly
    where |z|^2 exceeds a threshold, which a prior sample does with the chi-square(5) tail probability."""
    s, d = 0.5, 5
    threshold = 2 * (-d * math.log(s) - math.log(HOLE_RATIO)) / (1 / s**2 - 1)
    expected = float(torch.special.gammaincc(torch.tensor(d / 2), torch.tensor(threshold / 2)))
    found = holes_in_full_space(torch.zeros(3, d), torch.full((3, d), s))
    assert 0.3 < expected < 0.8 and found.prior_mass == pytest.approx(expected, abs=4 * found.standard_error)
    assert holes_in_full_space(torch.zeros(3, d), torch.ones(3, d)).prior_mass == 0.0  # q = p


@pytest.fixture(scope="module")
def zoo_posteriors(quick_zoo: Path, test_set: ImageSet) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    found = {}
    for model_id in ("kl-2d", "recon-2d"):
        mu, logvar = posteriors(quick_zoo, model_id, test_set.head(2000))
        found[model_id] = (mu, (0.5 * logvar).exp())
    return found


def test_a_kl_only_model_has_no_holes_and_a_reconstruction_only_model_is_all_holes(
    zoo_posteriors: dict[str, tuple[torch.Tensor, torch.Tensor]],
) -> None:
    kl_only = find_holes(*zoo_posteriors["kl-2d"], MapPlane.fit(zoo_posteriors["kl-2d"][0]))
    recon_only = find_holes(*zoo_posteriors["recon-2d"], MapPlane.fit(zoo_posteriors["recon-2d"][0]))
    assert kl_only.hole_mass < 0.01
    # Of the disc's 0.95: posteriors narrower than the gaps between them (0.93 on the default zoo's model,
    # trained longer than the quick zoo's)
    assert recon_only.hole_mass > 0.3
    in_full = {name: holes_in_full_space(*found).prior_mass for name, found in zoo_posteriors.items()}
    assert in_full["kl-2d"] < 0.01 and in_full["recon-2d"] > 0.5


def test_aggregate_draws_come_from_the_posteriors_of_the_images(quick_zoo: Path, test_set: ImageSet) -> None:
    _, network = load_network(quick_zoo / "models" / "full-16d")
    network.eval()
    one = test_set.head(1)
    z = aggregate_draws(network, one, 4000, torch.Generator().manual_seed(0))
    with torch.inference_mode():
        posterior = network.encode(one.pixels())
    assert z.shape == (4000, 16)
    assert torch.allclose(z.mean(dim=0), posterior.mu[0], atol=float(4 * posterior.sigma.max() / 4000**0.5))
    assert torch.allclose(z.std(dim=0), posterior.sigma[0], rtol=0.1)
    two = test_set.head(2)
    picked = aggregate_draws(network, two, 400, torch.Generator().manual_seed(1))
    with torch.inference_mode():
        mus = network.encode(two.pixels()).mu
    nearest = torch.cdist(picked, mus).argmin(dim=1)
    assert 150 < int((nearest == 0).sum()) < 250  # each image picked about half the time
