"""`sprites`: dSprites' factor grid (Matthey et al., 2017), built in and offline: 64x64 binary images of a
square, an ellipse or a heart at 6 scales, 40 orientations and 32 x 32 positions, every combination once
(737,280 images, in dSprites' order: the last factor changes fastest), each image's factor values kept as
its label columns (the shape is its class). No randomness makes the images: the grid is the data, so every
machine builds the same set; a seeded 10,000 of them are held out as the test split. `sprites-small` is a
sub-grid (every other scale, every fifth orientation, every fourth position: 4,608 images) for tests.

Each (shape, scale, orientation) is drawn once, centred on a padded canvas, by testing every pixel centre
against the shape's outline; a position is then a whole-pixel shift of it, so moving a sprite never
changes its pixels, only where they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from model.data import Dataset, DatasetInfo, Factor, ImageSet

SIZE = 64  # pixels a side
RADIUS = 11.0  # a sprite's size at scale 1, in pixels: at most 15.6 px from its centre when rotated
POSITIONS = 32
FIRST_CENTRE = 16  # the 32 centres are at 16..47 px along each axis: the largest sprite stays in frame
CANVAS = SIZE + 2 * POSITIONS  # a sprite is drawn once on a canvas this wide, then windowed to place it
SHAPES = ("square", "ellipse", "heart")
SCALES = tuple(np.linspace(0.5, 1.0, 6).round(3).tolist())
ORIENTATIONS = tuple((2 * math.pi * np.arange(40) / 40).tolist())  # radians: 0 to 351 degrees by 9
TEST_SIZE = 10_000
SEED = 0  # which grid images are held out for testing
KEY = "sprites"
SMALL_KEY = "sprites-small"
NOTE = (
    "Synthetic: dSprites' grid of shapes, scales, orientations and positions, drawn here; each image's "
    "factor values are its labels."
)


@dataclass(frozen=True)
class Grid:
    """Which of the full grid's values a set takes, by index, per factor."""

    shapes: tuple[int, ...]
    scales: tuple[int, ...]
    orientations: tuple[int, ...]
    positions: tuple[int, ...]
    test_size: int

    @property
    def sizes(self) -> tuple[int, ...]:
        positions = len(self.positions)
        return len(self.shapes), len(self.scales), len(self.orientations), positions, positions

    def factors(self) -> tuple[Factor, ...]:
        place = [f"{i / (POSITIONS - 1):.2f}" for i in self.positions]  # 0 to 1 across, as dSprites'
        return (
            Factor("shape", tuple(SHAPES[i] for i in self.shapes)),
            Factor("scale", tuple(f"{SCALES[i]:g}" for i in self.scales)),
            Factor(
                "orientation", tuple(f"{round(math.degrees(ORIENTATIONS[i]))}°" for i in self.orientations)
            ),
            Factor("x", tuple(place)),
            Factor("y", tuple(place)),
        )


FULL = Grid(tuple(range(3)), tuple(range(6)), tuple(range(40)), tuple(range(POSITIONS)), TEST_SIZE)
SMALL = Grid(tuple(range(3)), (0, 2, 4), tuple(range(0, 40, 5)), tuple(range(0, POSITIONS, 4)), 500)
GRIDS = {KEY: FULL, SMALL_KEY: SMALL}  # by data set key


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether sprite-frame points (u right, v up, in units of the sprite's size) fall inside `shape`."""
    inside: np.ndarray
    if shape == "square":
        inside = (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)
    elif shape == "ellipse":
        inside = u**2 + (v / 0.5) ** 2 <= 1.0
    else:  # the heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, its point down, about the others' size
        x, y = u / 0.85, v / 0.85 - 0.15
        inside = (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0
    return inside


@cache
def draw_sprite(shape: str, scale: float, orientation: float) -> np.ndarray:
    """One sprite centred on a canvas of CANVAS pixels a side (0 or 255): [H, W] uint8."""
    side = CANVAS
    centre = side / 2  # in coordinates where pixel k spans k to k + 1: between the two middle pixels
    rows, columns = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5  # pixel centres
    dx, dy = columns - centre, centre - rows  # y up
    cos, sin = math.cos(orientation), math.sin(orientation)
    u = (cos * dx + sin * dy) / (RADIUS * scale)  # rotated back by the orientation: the sprite's frame
    v = (-sin * dx + cos * dy) / (RADIUS * scale)
    return np.where(_inside(shape, u, v), 255, 0).astype(np.uint8)


def centre_of(position: int) -> float:
    """Where position index `position` puts a sprite's centre, in pixel coordinates of the image (pixel k
    spans k to k + 1): between pixels FIRST_CENTRE + position - 1 and FIRST_CENTRE + position."""
    return FIRST_CENTRE + position


def _starts(positions: tuple[int, ...]) -> np.ndarray:
    """Where an image's window on a sprite's canvas starts for each position: the canvas's centre (CANVAS
    / 2) lands on the image's centre_of(i) when the window starts at CANVAS / 2 - centre_of(i)."""
    return np.array([CANVAS // 2 - int(centre_of(i)) for i in positions])


def _placed(sprite: np.ndarray, positions: tuple[int, ...]) -> np.ndarray:
    """The sprite at every (x, y) of the positions, x slower (x right, y down the rows, as dSprites'):
    [len^2, SIZE, SIZE]."""
    windows = sliding_window_view(sprite, (SIZE, SIZE))  # [start_row, start_column, SIZE, SIZE], views
    starts = _starts(positions)
    x, y = np.meshgrid(starts, starts, indexing="ij")  # x slower, then y
    placed: np.ndarray = windows[y.ravel(), x.ravel()]
    return placed


def _sprites(grid: Grid) -> Iterator[np.ndarray]:
    """Every (shape, scale, orientation) of the grid in order, at every position: [positions^2, SIZE, SIZE]
    each, together the grid's images in order (the last factor fastest)."""
    for shape in grid.shapes:
        for scale in grid.scales:
            for orientation in grid.orientations:
                sprite = draw_sprite(SHAPES[shape], SCALES[scale], ORIENTATIONS[orientation])
                yield _placed(sprite, grid.positions)


def images_of(grid: Grid, factors: torch.Tensor) -> torch.Tensor:
    """The images of any factor vectors of the grid (indices within it, [n, 5] int64), drawn as the set's
    are: [n, 1, SIZE, SIZE] uint8. The disentanglement metrics ask for images by their factors."""
    chosen = factors.cpu().numpy()
    images = np.empty((len(chosen), 1, SIZE, SIZE), dtype=np.uint8)
    sprite_of = chosen[:, 0] * 10_000 + chosen[:, 1] * 100 + chosen[:, 2]
    for key in np.unique(sprite_of):
        rows = np.flatnonzero(sprite_of == key)
        shape, scale, orientation = chosen[rows[0], :3]
        sprite = draw_sprite(
            SHAPES[grid.shapes[shape]],
            SCALES[grid.scales[scale]],
            ORIENTATIONS[grid.orientations[orientation]],
        )
        windows = sliding_window_view(sprite, (SIZE, SIZE))
        starts = _starts(grid.positions)
        images[rows, 0] = windows[starts[chosen[rows, 4]], starts[chosen[rows, 3]]]
    return torch.from_numpy(images)


def grid_factors(grid: Grid) -> np.ndarray:
    """Each image's factor indices within the grid, in the images' order: [N, 5] int64."""
    count = math.prod(grid.sizes)
    return np.stack(np.unravel_index(np.arange(count), grid.sizes), axis=1).astype(np.int64)


def render(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Every image of the grid in order and its factor indices: [N, 1, SIZE, SIZE] uint8, [N, 5] int64."""
    images = np.concatenate(list(_sprites(grid)))[:, None]
    return images, grid_factors(grid)


def build(grid: Grid = FULL) -> Dataset:
    """The grid's images, a seeded `test_size` of them held out as the test split. Each sprite's images
    are written straight into their split, so building takes the images' memory once (3 GB for the full
    grid), not twice."""
    factors = grid_factors(grid)
    held_out = np.zeros(len(factors), dtype=bool)
    held_out[np.random.default_rng(SEED).choice(len(factors), grid.test_size, replace=False)] = True
    # Where each image of the grid goes: its row in its split.
    row = np.where(held_out, np.cumsum(held_out) - 1, np.cumsum(~held_out) - 1)
    splits = {False: np.empty((int((~held_out).sum()), 1, SIZE, SIZE), np.uint8)}
    splits[True] = np.empty((grid.test_size, 1, SIZE, SIZE), np.uint8)
    at = 0
    for placed in _sprites(grid):
        chosen = held_out[at : at + len(placed)]
        for test in (False, True):
            mask = chosen == test
            splits[test][row[at : at + len(placed)][mask], 0] = placed[mask]
        at += len(placed)
    key = KEY if grid == FULL else SMALL_KEY
    names = grid.factors()
    info = DatasetInfo(
        key=key,
        title="Sprites (dSprites' factor grid)" if grid == FULL else "Sprites, a small grid",
        image_shape=(1, SIZE, SIZE),
        class_names=names[0].values,
        preprocessing="resize",  # an upload keeps where its sprite is: the position is a factor
        note=NOTE,
        factors=names,
    )

    def split(test: bool) -> ImageSet:
        chosen = torch.from_numpy(factors[held_out == test])
        return ImageSet(torch.from_numpy(splits[test]), chosen[:, 0].clone(), factors=chosen)

    return Dataset(info, split(False), split(True))
