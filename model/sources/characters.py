"""`characters`: handwriting-like glyphs, built in and offline. Synthetic: each image is a glyph of one
of the Hershey stroke fonts (the hershey-fonts package, MIT), drawn with jitter (rotation, shear, scale,
stroke width, point noise) by the same renderer as UJI Pen Characters, seeded so every machine makes the
same set, and framed as MNIST's digits were (box to 20 px, centre of mass centred), as a drawing on the
page is. It stands in for the UJI set the tutorial's Fig. 5 interpolates (@ -> 9 -> a)."""

from __future__ import annotations

import os
import string
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import cache
from multiprocessing import get_context

import numpy as np
import torch
from tqdm import tqdm

from model.data import Dataset, DatasetInfo, ImageSet
from model.sources.strokes import Jitter, render_strokes

# EMNIST's merge (Cohen et al., 2017, "bymerge"): the 15 letters whose upper and lower case share one
# shape are one class each ("Oo"), drawn half the time in each case. 62 + 5 separate classes leave the
# 16-D model's 8 nearest test neighbours sharing the class 84.0% of the time, merged 85.4% (README).
MERGED = "CIJKLMOPSUVWXYZ"
SYMBOLS = "@&?#+"
CLASSES = (
    *string.digits,
    *(f"{upper}{upper.lower()}" if upper in MERGED else upper for upper in string.ascii_uppercase),
    *(lower for lower in string.ascii_lowercase if lower.upper() not in MERGED),
    *SYMBOLS,
)
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
TRAIN_PER_CLASS = 768  # 64 rounds of the 12 fonts, both cases of a merged class alike
TEST_PER_CLASS = 120
INFO = DatasetInfo(
    key="characters",
    title="Characters (synthetic handwriting)",
    image_shape=(1, 28, 28),
    class_names=CLASSES,
    preprocessing="ink",
    note=(
        "Synthetic: glyphs of 12 Hershey stroke fonts drawn with random jitter, not real handwriting; "
        "letters whose cases share a shape are one class (Oo), as in EMNIST."
    ),
)

# The same glyphs a million times over (`--dataset characters-1m`): a training split large enough to need
# the density map. Its test split is the characters set's, so the two sets' models are measured alike.
MILLION_KEY = "characters-1m"
MILLION_TRAIN_PER_CLASS = -(-1_000_000 // len(CLASSES))  # 1,000,012 glyphs
MILLION_INFO = replace(INFO, key=MILLION_KEY, title="Characters, a million (synthetic handwriting)")
ROUNDS_PER_CHUNK = 256  # of every class: a chunk of ~13,000 glyphs (10 MB) per task


@cache
def _glyph_strokes(font: str) -> dict[str, tuple[np.ndarray, ...]]:
    """The strokes of every character the classes use in one font, in font units (cap height 21, y down)."""
    from HersheyFonts import HersheyFonts

    hershey = HersheyFonts()
    hershey.load_default_font(font)
    return {
        char: tuple(np.asarray(stroke, dtype=np.float64) for stroke in hershey.strokes_for_text(char))
        for char in "".join(CLASSES)
    }


def glyph_of(name: str, index: int) -> str:
    """The character drawn for the `index`-th sample of class `name`: a merged class ("Oo") takes
    each case in turn for a whole round of the fonts, so both cases appear in every font."""
    return name[(index // len(FONTS)) % len(name)]


def _render_rounds(first: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` rounds of every class from round `first`, fonts in turn: [count * classes, 1, 28, 28]."""
    jitter = Jitter()
    images = np.empty((len(CLASSES) * count, 1, 28, 28), dtype=np.uint8)
    for offset in range(count):
        index = first + offset
        font = FONTS[index % len(FONTS)]
        for label, name in enumerate(CLASSES):
            strokes = list(_glyph_strokes(font)[glyph_of(name, index)])
            images[offset * len(CLASSES) + label, 0] = render_strokes(strokes, rng, jitter)
    return images


def render_split(per_class: int, seed: int) -> ImageSet:
    """`per_class` samples of every class, fonts taken in turn. Classes interleave (0, 1, ..., 0, 1, ...),
    so the first N images of a split, a quick run's slice, hold every class."""
    images = _render_rounds(0, per_class, np.random.default_rng(seed))
    return ImageSet(torch.from_numpy(images), torch.arange(len(CLASSES)).repeat(per_class))


def _render_chunk(seed: int, chunk: int, per_class: int) -> np.ndarray:
    first = chunk * ROUNDS_PER_CHUNK
    count = min(ROUNDS_PER_CHUNK, per_class - first)
    return _render_rounds(first, count, np.random.default_rng([seed, chunk]))


def render_large_split(per_class: int, seed: int, workers: int | None = None) -> ImageSet:
    """As render_split, in chunks of rounds drawn in `workers` processes (all cores by default), a bar
    on stderr: each chunk has its own seed, so the images are the same whatever the number of workers."""
    workers = workers or os.cpu_count() or 1
    chunks = -(-per_class // ROUNDS_PER_CHUNK)
    images = np.empty((len(CLASSES) * per_class, 1, 28, 28), dtype=np.uint8)
    step = ROUNDS_PER_CHUNK * len(CLASSES)
    with (
        ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool,
        tqdm(total=len(images), desc="rendering glyphs", unit="glyph", unit_scale=True) as bar,
    ):
        rendered = pool.map(_render_chunk, [seed] * chunks, range(chunks), [per_class] * chunks)
        for chunk, part in enumerate(rendered):
            images[chunk * step : chunk * step + len(part)] = part
            bar.update(len(part))
    return ImageSet(torch.from_numpy(images), torch.arange(len(CLASSES)).repeat(per_class))


def build(train_per_class: int = TRAIN_PER_CLASS, test_per_class: int = TEST_PER_CLASS) -> Dataset:
    """The characters set; the test split is drawn from its own seed, so no image is in both."""
    return Dataset(INFO, render_split(train_per_class, SEED), render_split(test_per_class, SEED + 1))


def build_million(train_per_class: int = MILLION_TRAIN_PER_CLASS) -> Dataset:
    """The characters set with a million training glyphs (rendered on every core: ~4 minutes on 2) and
    the characters set's own test split."""
    return Dataset(
        MILLION_INFO,
        render_large_split(train_per_class, SEED),
        render_split(TEST_PER_CLASS, SEED + 1),
    )
