"""`characters`: handwriting-like glyphs, built in and offline. Synthetic: each image is a glyph of one
of the Hershey stroke fonts (the hershey-fonts package, MIT), drawn with jitter (rotation, shear, scale,
stroke width, point noise) by the same renderer as UJI Pen Characters, seeded so every machine makes the
same set. It stands in for the UJI set the tutorial's Fig. 5 interpolates (@ -> 9 -> a)."""

from __future__ import annotations

import string
from functools import cache

import numpy as np
import torch

from model.data import Dataset, DatasetInfo, ImageSet
from model.sources.strokes import Jitter, render_strokes

CLASSES = tuple(string.digits + string.ascii_uppercase + string.ascii_lowercase + "@&?#+")
# The Latin stroke fonts: sans, serif, italic and script hands. The Gothic ones are left out: their
# letters are ornaments a reader would not write.
FONTS = (
    "futural",
    "futuram",
    "rowmans",
    "rowmand",
    "rowmant",
    "timesr",
    "timesi",
    "timesrb",
    "timesib",
    "cursive",
    "scripts",
    "scriptc",
)
SEED = 5  # the tutorial's Fig. 5
# A font's cap height in pixels: capitals and digits a little under MNIST's 20 px box, so that a glyph
# with a descender (g, J in script) still fits the 28 px field with its centre of mass at the centre.
CAP_PX = 17
TRAIN_PER_CLASS = 600
TEST_PER_CLASS = 100
INFO = DatasetInfo(
    key="characters",
    title="Characters (synthetic handwriting)",
    image_shape=(1, 28, 28),
    class_names=CLASSES,
    preprocessing="ink",
    note="Synthetic: glyphs of 12 Hershey stroke fonts, drawn with random jitter; not real handwriting.",
)


@cache
def _glyph_strokes(font: str) -> dict[str, tuple[np.ndarray, ...]]:
    """The strokes of every class in one font, in font units (cap height 21, y down)."""
    from HersheyFonts import HersheyFonts

    hershey = HersheyFonts()
    hershey.load_default_font(font)
    return {
        char: tuple(np.asarray(stroke, dtype=np.float64) for stroke in hershey.strokes_for_text(char))
        for char in CLASSES
    }


def cap_height(font: str) -> float:
    from HersheyFonts import HersheyFonts

    hershey = HersheyFonts()
    hershey.load_default_font(font)
    return float(hershey.render_options["base_line"] - hershey.render_options["cap_line"])


def render_split(per_class: int, seed: int) -> ImageSet:
    """`per_class` samples of every class, fonts taken in turn. Classes interleave (0, 1, ..., 0, 1, ...),
    so the first N images of a split, a quick run's slice, hold every class."""
    rng = np.random.default_rng(seed)
    jitter = Jitter()
    units = {font: cap_height(font) for font in FONTS}
    images = np.empty((len(CLASSES) * per_class, 1, 28, 28), dtype=np.uint8)
    for index in range(per_class):
        font = FONTS[index % len(FONTS)]
        for label, char in enumerate(CLASSES):
            strokes = list(_glyph_strokes(font)[char])
            images[index * len(CLASSES) + label, 0] = render_strokes(strokes, units[font], rng, jitter, CAP_PX)
    labels = torch.arange(len(CLASSES)).repeat(per_class)
    return ImageSet(torch.from_numpy(images), labels)


def build(train_per_class: int = TRAIN_PER_CLASS, test_per_class: int = TEST_PER_CLASS) -> Dataset:
    """The characters set; the test split is drawn from its own seed, so no image is in both."""
    return Dataset(INFO, render_split(train_per_class, SEED), render_split(test_per_class, SEED + 1))
