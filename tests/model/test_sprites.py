"""The sprites set: dSprites' grid in dSprites' order, and factors that say what the images show (a
sprite's centroid sits at its x, y factors' centre; its size grows in proportion to its scale; turning
it turns its extent), kept through the prepared copy."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from model.data import Dataset
from model.datasets import open_dataset
from model.sources import sprites


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray]:
    return sprites.render(sprites.SMALL)


def ink(image: np.ndarray) -> tuple[float, float, int]:
    """An image's ink: its centroid (x right, y down, pixel k spanning k to k + 1) and its area."""
    rows, columns = np.nonzero(image)
    return float(columns.mean() + 0.5), float(rows.mean() + 0.5), len(rows)


def test_the_grids_are_dsprites_in_its_order(small: tuple[np.ndarray, np.ndarray]) -> None:
    assert sprites.FULL.sizes == (3, 6, 40, 32, 32) and math.prod(sprites.FULL.sizes) == 737_280
    images, factors = small
    assert images.shape == (3 * 3 * 8 * 8 * 8, 1, 64, 64) and set(np.unique(images)) == {0, 255}
    assert factors[:3].tolist() == [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 2]]  # the last fastest
    assert (factors.max(axis=0) + 1).tolist() == list(sprites.SMALL.sizes)
    names = [factor.name for factor in sprites.FULL.factors()]
    assert names == ["shape", "scale", "orientation", "x", "y"]
    assert sprites.FULL.factors()[2].values[10] == "90°" and sprites.FULL.factors()[3].values[-1] == "1.00"


def test_a_sprite_s_centroid_sits_at_its_position(small: tuple[np.ndarray, np.ndarray]) -> None:
    """Squares and ellipses are symmetric about their centre: their centroid is it. A heart is not, but it
    moves with its position pixel for pixel."""
    images, factors = small
    positions = np.array(sprites.SMALL.positions)
    for image, (shape, _, _, x, y) in zip(images[:, 0], factors, strict=True):
        cx, cy, _ = ink(image)
        expected = sprites.centre_of(positions[x]), sprites.centre_of(positions[y])
        if sprites.SHAPES[shape] != "heart":
            assert (cx, cy) == pytest.approx(expected, abs=1e-9)
    hearts = factors[:, 0] == sprites.SHAPES.index("heart")
    offsets = {}
    for image, (_, scale, orientation, x, y) in zip(images[hearts, 0], factors[hearts], strict=True):
        cx, cy, _ = ink(image)
        offset = (cx - sprites.centre_of(positions[x]), cy - sprites.centre_of(positions[y]))
        assert offsets.setdefault((scale, orientation), offset) == pytest.approx(offset, abs=1e-9)


def test_a_sprite_grows_with_its_scale_and_turns_with_its_orientation(
    small: tuple[np.ndarray, np.ndarray],
) -> None:
    images, factors = small
    scales = [sprites.SCALES[i] for i in sprites.SMALL.scales]

    def image(shape: str, scale: int, orientation: int) -> np.ndarray:
        wanted = [sprites.SHAPES.index(shape), scale, orientation, 4, 4]
        return images[np.flatnonzero((factors == wanted).all(axis=1))[0], 0]

    for shape in sprites.SHAPES:
        # The square root of the ink, a size in pixels, in proportion to the scale up to the pixel each
        # edge rounds to (a square of scale 0.5 is 8 px a side, of 1.0 16 px).
        sizes = np.sqrt([ink(image(shape, scale, 0))[2] for scale in range(len(scales))])
        assert sizes == pytest.approx([sizes[-1] * s / scales[-1] for s in scales], abs=1.5)
        assert (np.diff(sizes) > 0).all()
    # Index 2 of the small grid's orientations is 90 degrees: a wide ellipse stands up.
    lying, standing = image("ellipse", 2, 0), image("ellipse", 2, 2)
    rows, columns = np.nonzero(lying)
    assert np.ptp(columns) > 1.8 * np.ptp(rows)
    rows, columns = np.nonzero(standing)
    assert np.ptp(rows) > 1.8 * np.ptp(columns)


def test_the_prepared_set_keeps_every_image_s_factors(
    tmp_path: Path, small: tuple[np.ndarray, np.ndarray]
) -> None:
    built, _ = open_dataset(sprites.SMALL_KEY, tmp_path)
    read, source = open_dataset(sprites.SMALL_KEY, tmp_path)  # the prepared copy, read back
    assert "dSprites" in source["renderer"]
    assert isinstance(read, Dataset) and read.info == built.info
    assert [factor.name for factor in read.info.factors] == ["shape", "scale", "orientation", "x", "y"]
    assert read.info.class_names == ("square", "ellipse", "heart")
    for name in ("train", "test"):
        a, b = built.split(name), read.split(name)
        assert a.factors is not None and b.factors is not None
        assert torch.equal(a.images, b.images) and torch.equal(a.factors, b.factors)
        assert torch.equal(b.labels, b.factors[:, 0])  # the shape is the class
        at = np.ravel_multi_index(tuple(b.factors.numpy().T), sprites.SMALL.sizes)  # each one's grid index
        assert np.array_equal(b.images.numpy(), small[0][at])
    assert len(read.test) == 500 and len(read.train) + len(read.test) == math.prod(sprites.SMALL.sizes)
    train_rows = {tuple(row) for row in read.train.factors.tolist()}  # type: ignore[union-attr]
    assert not train_rows & {tuple(row) for row in read.test.factors.tolist()}  # type: ignore[union-attr]


def test_any_factor_vector_draws_the_set_s_image_of_it(small: tuple[np.ndarray, np.ndarray]) -> None:
    """What the disentanglement metrics ask for: images by their factors, as the set has them."""
    images, factors = small
    picked = np.random.default_rng(0).choice(len(factors), 300, replace=False)
    drawn = sprites.images_of(sprites.SMALL, torch.from_numpy(factors[picked]))
    assert np.array_equal(drawn.numpy(), images[picked])
