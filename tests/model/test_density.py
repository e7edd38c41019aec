"""Density tiles of a large map: counts against an independent histogram, every point in exactly one tile,
the shading's colours and hidden classes, the region a view holds and the tiles that cover it."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from model.density import MAX_ZOOM, TILE_PIXELS, DensityMap, TileBox

N = 20_000


@pytest.fixture(scope="module")
def density() -> DensityMap:
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-3.0, 0.0], [3.0, 1.0], [0.0, -3.0]])
    labels = torch.randint(0, 3, (N,), generator=generator)
    xy = centres[labels] + 0.5 * torch.randn(N, 2, generator=generator)
    return DensityMap(xy, labels, class_count=3)


@pytest.mark.parametrize("zoom", [0, 1, 3])
def test_the_density_tiles_of_a_zoom_level_sum_to_the_number_of_points(
    density: DensityMap, zoom: int
) -> None:
    side = 2**zoom
    total = sum(int(density.counts(zoom, i, j).sum()) for i in range(side) for j in range(side))
    assert total == len(density) == N


def test_a_tiles_counts_are_a_histogram_of_its_points_by_class(density: DensityMap) -> None:
    box = density.box(2, 1, 2)
    counts = density.counts(2, 1, 2)
    assert counts.shape == (TILE_PIXELS, TILE_PIXELS, 3)
    for label in range(3):
        xy = density.xy[density.labels == label]
        # torch.histogramdd bins [x, y]; the tile's rows are y (bottom first), its columns x
        expected, _ = torch.histogramdd(
            xy.double(), bins=[TILE_PIXELS, TILE_PIXELS], range=[box.x0, box.x1, box.y0, box.y1]
        )
        assert np.abs(counts[:, :, label] - expected.T.numpy()).sum() <= 2  # a point on a pixel's edge
        assert counts[:, :, label].sum() == expected.sum()


def _rgba_at(png: bytes, density: DensityMap, box: TileBox, point: tuple[float, float]) -> tuple[int, ...]:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    column = int((point[0] - box.x0) / (box.x1 - box.x0) * TILE_PIXELS)
    row = int((box.y1 - point[1]) / (box.y1 - box.y0) * TILE_PIXELS)  # the image's top row is the tile's top
    pixels = np.asarray(image)[max(0, row - 3) : row + 4, max(0, column - 3) : column + 4]
    return tuple(int(v) for v in pixels.reshape(-1, 4).max(axis=0))


def test_a_tile_is_shaded_in_the_colour_of_the_classes_under_it_and_leaves_hidden_classes_out(
    density: DensityMap,
) -> None:
    box = density.box(0, 0, 0)
    shown = density.tile_png(0, 0, 0, ("#ff0000", "#0000ff", "#00ff00"))
    red, blue = _rgba_at(shown, density, box, (-3.0, 0.0)), _rgba_at(shown, density, box, (3.0, 1.0))
    assert red[0] > 200 and red[2] < 50 and red[3] > 200
    assert blue[2] > 200 and blue[0] < 50 and blue[3] > 200
    assert _rgba_at(shown, density, box, (3.0, -4.0))[3] == 0  # nothing there: transparent

    filtered = density.tile_png(0, 0, 0, ("#ff0000", None, "#00ff00"))
    assert _rgba_at(filtered, density, box, (3.0, 1.0))[3] == 0
    assert _rgba_at(filtered, density, box, (-3.0, 0.0))[3] > 200


def test_a_region_holds_exactly_the_points_inside_it(density: DensityMap) -> None:
    box = TileBox(-3.5, -2.0, -0.5, 1.0)
    x, y = density.xy[:, 0], density.xy[:, 1]
    expected = [k for k in range(N) if box.x0 <= x[k] <= box.x1 and box.y0 <= y[k] <= box.y1]
    assert density.region(box).tolist() == expected


@pytest.mark.parametrize(("view", "pixels"), [((-1.0, 1.0, -1.0, 1.0), 800), ((-9.0, 9.0, -9.0, 9.0), 600)])
def test_the_tiles_over_a_view_cover_it_at_about_a_screen_pixel_each(
    density: DensityMap, view: tuple[float, ...], pixels: int
) -> None:
    box = TileBox(*view)
    zoom, tiles = density.tiles_over(box, pixels)
    step = (density.bounds.x1 - density.bounds.x0) / 2**zoom
    assert 0.5 <= (box.x1 - box.x0) / pixels / (step / TILE_PIXELS) <= 2 or zoom == 0
    for _, _, tile in tiles:  # no tile off the view
        assert tile.x1 > box.x0 and tile.x0 < box.x1 and tile.y1 > box.y0 and tile.y0 < box.y1
    for x in np.linspace(max(box.x0, density.bounds.x0), min(box.x1, density.bounds.x1) - 1e-6, 9):
        for y in np.linspace(max(box.y0, density.bounds.y0), min(box.y1, density.bounds.y1) - 1e-6, 9):
            assert any(t.x0 <= x <= t.x1 and t.y0 <= y <= t.y1 for _, _, t in tiles)


def test_a_tile_that_does_not_exist_is_refused_with_its_range(density: DensityMap) -> None:
    with pytest.raises(ValueError, match=r"zoom 2 has tiles 0 to 3 along each axis, got \(4, 0\)"):
        density.box(2, 4, 0)
    with pytest.raises(ValueError, match=f"zoom must be 0 to {MAX_ZOOM}, got {MAX_ZOOM + 1}"):
        density.box(MAX_ZOOM + 1, 0, 0)
    with pytest.raises(ValueError, match="need a colour for each of the 3 classes, got 2"):
        density.tile_png(0, 0, 0, ("#ff0000", "#00ff00"))
