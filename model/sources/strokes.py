"""Drawing pen strokes into MNIST-like images: the renderer behind the characters set (Hershey stroke
fonts) and UJI Pen Characters (real pen trajectories), with the per-sample jitter that makes one glyph
into many handwritten-looking ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from model.framing import crop_to_ink, place_by_centre_of_mass, scale_longest_side

SUPERSAMPLE = 4  # drawn at 4x, then box-filtered down: antialiased strokes, as a scanned pen stroke is
FIELD = 28
BOX_PX = 20  # MNIST's box: a pen sample's own box is scaled to it
MAX_SIDE = 24  # a wide pen stroke can push the ink past the box: larger marks are shrunk to keep a border


@dataclass(frozen=True)
class Jitter:
    """How much one sample may differ from the glyph it is drawn from (each drawn uniformly)."""

    rotation: float = 0.18  # radians either way (about 10 degrees)
    shear: float = 0.25
    scale: float = 0.12  # each axis, either way
    point_noise: float = 0.012  # standard deviation of each vertex's offset, in units
    width: tuple[float, float] = (1.4, 2.8)  # stroke width in px of the 28 px field


NO_JITTER = Jitter(rotation=0.0, shear=0.0, scale=0.0, point_noise=0.0, width=(2.0, 2.0))


def box_side(strokes: list[np.ndarray]) -> float:
    """The longer side of the strokes' box: the unit that frames them as MNIST framed its digits."""
    points = np.concatenate(strokes)
    return float(max(np.ptp(points, axis=0).max(), 1.0))


def _jittered(
    strokes: list[np.ndarray], unit: float, jitter: Jitter, rng: np.random.Generator
) -> list[np.ndarray]:
    angle = rng.uniform(-jitter.rotation, jitter.rotation)
    shear = rng.uniform(-jitter.shear, jitter.shear)
    sx, sy = 1.0 + rng.uniform(-jitter.scale, jitter.scale, size=2)
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotate @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    centre = np.concatenate(strokes).mean(axis=0)
    return [
        (stroke - centre) @ matrix.T + rng.normal(0.0, jitter.point_noise * unit, size=stroke.shape)
        for stroke in strokes
    ]


def render_strokes(
    strokes: list[np.ndarray], rng: np.random.Generator, jitter: Jitter = NO_JITTER
) -> np.ndarray:
    """Polylines [K, 2] (x right, y down, any scale) -> [28, 28] uint8, white ink on black, framed as
    MNIST framed its digits (and as an upload is framed): after the jitter, the marks' box is scaled to
    20 px on its longer side and the ink's centre of mass put at the centre."""
    unit = box_side(strokes)
    moved = _jittered([np.asarray(s, dtype=np.float64) for s in strokes], unit, jitter, rng)
    width_px = rng.uniform(*jitter.width) * SUPERSAMPLE
    # The ink, pen width included, spans the box: as in MNIST, where the box held the scanned ink.
    scale = (BOX_PX * SUPERSAMPLE - width_px) / box_side(moved)
    points = [stroke * scale for stroke in moved]
    low = np.concatenate(points).min(axis=0)
    margin = int(np.ceil(width_px)) + SUPERSAMPLE
    extent = np.ceil(np.concatenate(points).max(axis=0) - low).astype(int) + 2 * margin
    side = int(-(-max(extent) // SUPERSAMPLE) * SUPERSAMPLE)  # a multiple of SUPERSAMPLE
    canvas = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(canvas)
    radius = width_px / 2
    for stroke in points:
        xy = [(float(x), float(y)) for x, y in stroke - low + margin]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=max(1, round(width_px)), joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps, and a dot for a one-point stroke
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    small = canvas.resize((side // SUPERSAMPLE, side // SUPERSAMPLE), Image.Resampling.BOX)
    patch = crop_to_ink(np.asarray(small, dtype=np.float32) / 255.0)
    if max(patch.shape) > MAX_SIDE:
        patch = scale_longest_side(patch, MAX_SIDE)
    field = place_by_centre_of_mass(patch, FIELD)
    return np.round(field * 255.0).astype(np.uint8)
