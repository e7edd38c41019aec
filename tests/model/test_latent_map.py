"""The map's geometry: the plane, lifting and projecting, ellipses, nearest neighbours, the coordinate
limit and grids, each against an independent computation."""

from pathlib import Path

import pytest
import torch

from model.data import ImageSet
from model.inference import LoadedModel
from model.latent_map import LatentMap, cell_centres, coordinate_limit, gaussian_axis


@pytest.fixture(scope="module")
def wide_map() -> LatentMap:
    """A 6-D map of correlated Gaussian codes, so the PCA plane is not an axis-aligned one."""
    generator = torch.Generator().manual_seed(0)
    mixing = torch.randn(6, 6, generator=generator)
    mu = torch.randn(3000, 6, generator=generator) @ mixing + 0.5
    sigma = torch.rand(3000, 6, generator=generator) * 0.5 + 0.05
    return LatentMap(mu, sigma, torch.randint(0, 10, (3000,), generator=generator))


def test_a_2d_map_is_the_latent_plane_itself() -> None:
    mu = torch.randn(100, 2)
    latent_map = LatentMap(mu, torch.ones(100, 2), torch.zeros(100, dtype=torch.long))
    assert latent_map.plane.is_identity and torch.equal(latent_map.xy, mu)
    assert torch.equal(latent_map.latents_of([[0.5, -1.0]]), torch.tensor([[0.5, -1.0]]))


def test_the_plane_holds_the_two_largest_principal_components(wide_map: LatentMap) -> None:
    plane = wide_map.plane
    assert torch.allclose(plane.components @ plane.components.T, torch.eye(2), atol=1e-5)
    centred = wide_map.mu - wide_map.mu.mean(dim=0)
    _, eigenvectors = torch.linalg.eigh(centred.T @ centred)  # eigenvalues ascending
    for row, expected in zip(plane.components, eigenvectors.T.flip(0)[:2], strict=True):
        assert abs(float(row @ expected)) == pytest.approx(1.0, abs=1e-4)  # the same direction, either sign
    assert float(wide_map.xy[:, 0].var()) > float(wide_map.xy[:, 1].var())


def test_lifting_a_map_point_projects_back_to_it(wide_map: LatentMap) -> None:
    xy = torch.tensor([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.25]])
    assert torch.allclose(wide_map.plane.project(wide_map.plane.lift(xy)), xy, atol=1e-5)


def test_mixed_map_points_and_latents_keep_their_order(wide_map: LatentMap) -> None:
    z = wide_map.mu[:2]
    latents = wide_map.latents_of([[0.5, -1.0], z[0].tolist(), [1.5, 0.25], z[1].tolist()])
    lifted = wide_map.plane.lift(torch.tensor([[0.5, -1.0], [1.5, 0.25]]))
    assert torch.allclose(latents, torch.stack([lifted[0], z[0], lifted[1], z[1]]), atol=1e-6)


def test_an_ellipse_is_the_posterior_spread_along_each_map_axis(wide_map: LatentMap) -> None:
    """sigma on the map = the standard deviation of the projection of z ~ q(z|x), by sampling."""
    mu, sigma = wide_map.mu[:1], wide_map.sigma[:1]
    _, sigma_xy = wide_map.locate(mu, sigma)
    z = mu + sigma * torch.randn(200_000, 6, generator=torch.Generator().manual_seed(1))
    sampled = wide_map.plane.project(z).std(dim=0)
    assert torch.allclose(sigma_xy[0], sampled, rtol=0.01)


def test_nearest_encodings_match_a_brute_force_search(wide_map: LatentMap) -> None:
    own = wide_map.mu[:5]
    generator = torch.Generator().manual_seed(2)
    queries = torch.cat([own, own + 0.01 * torch.randn(own.shape, generator=generator), torch.randn(5, 6)])
    indices, distances = wide_map.nearest(queries, 8)
    # Every difference, not torch.cdist: cdist itself takes the matrix-product shortcut on inputs this big.
    brute = (wide_map.mu[None] - queries[:, None]).norm(dim=2)
    expected = brute.topk(8, dim=1, largest=False)
    assert torch.allclose(distances, expected.values, atol=1e-4)
    assert torch.equal(indices[:, 0], expected.indices[:, 0])
    assert indices[:5, 0].tolist() == list(range(5)) and distances[:5, 0].abs().max() < 1e-4


def test_the_coordinate_limit_covers_codes_far_past_the_prior() -> None:
    assert coordinate_limit(torch.tensor([[0.5, -2.0]])) == 10  # the prior's 10 standard deviations
    assert coordinate_limit(torch.tensor([[0.5, -25.0]])) == 38  # 1.5 x the farthest code, rounded up


def test_extent_pads_the_encodings_within_the_limit(wide_map: LatentMap) -> None:
    low, high = wide_map.extent(0)
    x = wide_map.xy[:, 0]
    span = float(x.max() - x.min())
    assert low == pytest.approx(max(float(x.min()) - 0.05 * span, -wide_map.coordinate_limit))
    assert high == pytest.approx(min(float(x.max()) + 0.05 * span, wide_map.coordinate_limit))


def test_grids_run_row_by_row_over_y_and_column_by_column_over_x(wide_map: LatentMap) -> None:
    x_axis, y_axis = torch.tensor([-1.0, 0.0, 1.0]), torch.tensor([2.0, 3.0])
    z = wide_map.grid_latents(x_axis, y_axis)
    xy = wide_map.plane.project(z).reshape(2, 3, 2)
    assert torch.allclose(xy[1, 2], torch.tensor([1.0, 3.0]), atol=1e-5)
    assert torch.allclose(xy[0, 0], torch.tensor([-1.0, 2.0]), atol=1e-5)


def test_grid_axes() -> None:
    assert cell_centres(0.0, 4.0, 4).tolist() == [0.5, 1.5, 2.5, 3.5]
    axis = gaussian_axis(4)
    # Equal prior mass between neighbours: the normal CDF at the axis is at the centres of 4 bins.
    cdf = 0.5 * (1 + torch.erf(axis / 2**0.5))
    assert torch.allclose(cdf, torch.tensor([0.125, 0.375, 0.625, 0.875]), atol=1e-6)


def test_placing_images_encodes_reconstructs_and_finds_their_neighbours(
    tiny_model: Path, test_set: ImageSet
) -> None:
    model = LoadedModel.load(tiny_model, "cpu")
    digits = test_set.head(500)
    latent_map = LatentMap.build(model, digits)
    images = digits.images[:3].float() / 255
    placed = latent_map.place(model, images, k=4)
    mu, sigma = model.encode(images)
    assert torch.allclose(placed.sigma, sigma)
    assert torch.allclose(placed.mu, mu) and torch.allclose(placed.xy, mu)  # a 2-D map
    assert torch.allclose(placed.reconstruction, model.decode(mu))
    assert placed.neighbors[:, 0].tolist() == [0, 1, 2]  # each test digit is its own nearest encoding
    assert torch.equal(placed.neighbor_labels, digits.labels[placed.neighbors])
    rows = placed.unbind()
    assert len(rows) == 3 and torch.equal(rows[1].neighbors, placed.neighbors[1:2])
