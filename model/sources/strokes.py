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
MAX_SIDE = 24  # larger marks are shrunk, keeping a clear border of about 2 px as MNIST's digits have


@dataclass(frozen=True)
class Jitter:
    """How much one sample may differ from the glyph it is drawn from (each drawn uniformly)."""

    rotation: float = 0.18  # radians either way (about 10 degrees)
    shear: float = 0.25
    scale: float = 0.12  # each axis, either way
    point_noise: float = 0.012  # standard deviation of each vertex's offset, in units
    width: tuple[float, float] = (1.4, 2.8)  # stroke width in px of the 28 px field


NO_JITTER = Jitter(rotation=0.0, shear=0.0, scale=0.0, point_noise=0.0, width=(2.0, 2.0))


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
    strokes: list[np.ndarray],
    unit: float,
    rng: np.random.Generator,
    jitter: Jitter = NO_JITTER,
    unit_px: float = BOX_PX,
) -> np.ndarray:
    """Polylines [K, 2] (x right, y down, any scale) -> [28, 28] uint8, white ink on black.

    `unit` is the length that spans `unit_px` pixels: a pen sample's box side spans MNIST's 20 px box,
    a font's cap height a fixed height, so its lower case stays smaller than its capitals. The ink's
    centre of mass lands at the centre, as in MNIST. Marks larger than the field are shrunk to fit."""
    moved = _jittered([np.asarray(s, dtype=np.float64) for s in strokes], unit, jitter, rng)
    scale = unit_px * SUPERSAMPLE / unit
    points = [stroke * scale for stroke in moved]
    low = np.concatenate(points).min(axis=0)
    width_px = rng.uniform(*jitter.width) * SUPERSAMPLE
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
