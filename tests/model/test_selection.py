"""The points a polygon holds, against membership computed another way: boxes, an L of two boxes, a
triangle by barycentric coordinates."""

import pytest
import torch

from model.latent_map import LatentMap
from model.selection import inside_polygon, region_members

POINTS = torch.rand(20_000, 2, generator=torch.Generator().manual_seed(0)) * 4 - 2  # [-2, 2]^2


def test_a_box_holds_the_points_between_its_sides() -> None:
    box = torch.tensor([[-1.0, -0.5], [1.5, -0.5], [1.5, 0.7], [-1.0, 0.7]])
    x, y = POINTS[:, 0], POINTS[:, 1]
    expected = ((x > -1.0) & (x < 1.5) & (y > -0.5) & (y < 0.7)).nonzero().squeeze(1)
    assert inside_polygon(POINTS, box).tolist() == expected.tolist()


def test_a_concave_polygon_holds_its_two_boxes_and_not_the_notch() -> None:
    ell = torch.tensor([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 2.0], [0.0, 2.0]])
    x, y = POINTS[:, 0], POINTS[:, 1]
    foot = (x > 0) & (x < 2) & (y > 0) & (y < 1)
    leg = (x > 0) & (x < 1) & (y >= 1) & (y < 2)
    assert inside_polygon(POINTS, ell).tolist() == (foot | leg).nonzero().squeeze(1).tolist()


def test_a_triangle_holds_the_points_with_positive_barycentric_coordinates() -> None:
    a, b, c = torch.tensor([-1.5, -1.0]), torch.tensor([1.8, -0.2]), torch.tensor([0.1, 1.9])
    inside = inside_polygon(POINTS, torch.stack([a, b, c]))
    matrix = torch.stack([b - a, c - a], dim=1)
    weights = torch.linalg.solve(matrix, (POINTS - a).T).T  # [N, 2]: the coordinates along b-a and c-a
    expected = (weights > 0).all(dim=1) & (weights.sum(dim=1) < 1)
    assert inside.tolist() == expected.nonzero().squeeze(1).tolist()


def test_a_polygon_of_two_vertices_is_refused() -> None:
    with pytest.raises(ValueError, match=r"a polygon needs at least 3 vertices \[x, y\], got \[2, 2\]"):
        inside_polygon(POINTS, torch.zeros(2, 2))


def test_a_region_keeps_the_classes_asked_for_and_refuses_more_points_than_a_selection_holds() -> None:
    labels = torch.arange(len(POINTS)) % 3
    latent_map = LatentMap(POINTS, torch.ones_like(POINTS), labels)  # 2-D: the map's plane is the latent's
    box = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]
    every = region_members(latent_map, box, None, len(POINTS))
    twos = region_members(latent_map, box, [2], len(POINTS))
    assert twos.tolist() == [p for p in every.tolist() if p % 3 == 2] and len(every) > 4000
    with pytest.raises(
        ValueError, match=f"it holds {len(every):,} points; a selection holds at most 100: draw"
    ):
        region_members(latent_map, box, None, 100)
