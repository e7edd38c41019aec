"""The values an outside model takes its images in: the atlas keeps intensities in [0, 1]; a model trained on
[-1, 1] (a Tanh decoder's range) or on images normalised by a mean and standard deviation per channel gets
them that way, and its decoder's outputs are mapped back. Both are one affine map per channel,
x_model = a_c x + b_c; a scale (a Gaussian's sigma) maps back as sigma / |a_c|, so every density is taken on
[0, 1] intensities and compares with the built-in models' of the same data set."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ValueRange:
    """x_model = slope_c x + offset_c per channel c, for intensities x in [0, 1]."""

    slope: tuple[float, ...]
    offset: tuple[float, ...]
    described: str  # as the model declared it: "[-1, 1]", "mean (0.5,) std (0.5,)"

    @classmethod
    def interval(cls, low: float, high: float, channels: int) -> ValueRange:
        """Intensities 0..1 stretched over [low, high]."""
        if not (_finite(low) and _finite(high) and low < high):
            raise ValueError(f"value_range must be (low, high) with low < high, got ({low!r}, {high!r})")
        return cls((high - low,) * channels, (low,) * channels, f"[{low:g}, {high:g}]")

    @classmethod
    def normalised(cls, mean: Sequence[float], std: Sequence[float], channels: int) -> ValueRange:
        """(x - mean_c) / std_c, as torchvision's Normalize: one number for every channel, or one each."""
        means, stds = _per_channel("mean", mean, channels), _per_channel("std", std, channels)
        if not all(_finite(value) for value in means) or not all(_finite(s) and s > 0 for s in stds):
            raise ValueError(f"normalization needs finite means and stds > 0, got mean {mean!r}, std {std!r}")
        slope = tuple(1 / s for s in stds)
        offset = tuple(-m / s for m, s in zip(means, stds, strict=True))
        return cls(slope, offset, f"mean {tuple(means)} std {tuple(stds)}")

    @property
    def identity(self) -> bool:
        return all(a == 1 for a in self.slope) and all(b == 0 for b in self.offset)

    def _expanded(self, values: Sequence[float], like: torch.Tensor) -> torch.Tensor:
        """[C] -> [C*H*W] for flat images of `like`'s last size, channel by channel."""
        per_channel = torch.tensor(values, dtype=like.dtype, device=like.device)
        return per_channel.repeat_interleave(like.shape[-1] // len(values))

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        """Intensities [..., C*H*W] in [0, 1] -> the model's values."""
        if self.identity:
            return x
        return x * self._expanded(self.slope, x) + self._expanded(self.offset, x)

    def from_model(self, values: torch.Tensor) -> torch.Tensor:
        """The model's values (a decoder's means) [..., C*H*W] -> intensities."""
        if self.identity:
            return values
        return (values - self._expanded(self.offset, values)) / self._expanded(self.slope, values)

    def log_scale_from_model(self, log_scale: torch.Tensor) -> torch.Tensor:
        """log sigma of the model's values [..., C*H*W] -> log sigma of intensities."""
        if self.identity:
            return log_scale
        return log_scale - self._expanded(self.slope, log_scale).abs().log()

    def scale_from_model(self, scale: float) -> float:
        """A sigma shared by every value -> the same on intensities (of the first channel's slope: a declared
        scale is taken to hold for every channel, so ranges of one slope per channel)."""
        return scale / abs(self.slope[0])


UNIT = ValueRange((1.0,), (0.0,), "[0, 1]")


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _per_channel(name: str, values: Sequence[float] | float, channels: int) -> list[float]:
    listed = [values] if isinstance(values, int | float) else list(values)
    if len(listed) == 1:
        listed = listed * channels
    if len(listed) != channels:
        raise ValueError(f"normalization's {name} has {len(listed)} values for {channels} channels")
    return listed
