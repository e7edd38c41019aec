"""An evaluation's budget and its progress: how many test images fit a time budget for this model on this
machine, and the hook that hears each stage's progress (and stops the work by raising)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from model.metrics import BatchHook
from model.vae import LatentModel

MIN_IMAGES = 500  # never fewer (when the split has them): the standard errors stay about 5% of the spread
PILOT_LATENTS = 256  # decoded to time the model
ProgressHook = Callable[[str, float], None]  # the stage, and the fraction of the whole evaluation done


class EvaluationStopped(Exception):
    """An evaluation stopped on request: cancelled from the page, or the server stopping."""


@torch.inference_mode()
def decodes_per_second(network: LatentModel, device: torch.device) -> float:
    """How fast the model decodes here, timed on PILOT_LATENTS prior samples (the second pass: the first
    warms the kernels up)."""
    generator = torch.Generator().manual_seed(0)
    z = torch.randn((PILOT_LATENTS, network.latent_dim), generator=generator).to(device)
    seconds = 0.0
    for _ in range(2):
        began = time.perf_counter()
        network.decode(z)
        seconds = time.perf_counter() - began
    return PILOT_LATENTS / max(seconds, 1e-9)


def affordable_images(rate: float, decodes_per_image: float, seconds: float, available: int) -> int:
    """The test images an evaluation of `decodes_per_image` decodes each can take in `seconds` at `rate`
    decodes per second: a whole hundred, at least MIN_IMAGES, at most `available`."""
    fitting = int(seconds * rate / decodes_per_image) // 100 * 100
    return min(available, max(MIN_IMAGES, fitting))


class Stages:
    """The stages of an evaluation, each weighted by its cost per image, reporting the fraction of the whole
    done to `hook` (which may raise EvaluationStopped)."""

    def __init__(self, weights: dict[str, float], hook: ProgressHook | None) -> None:
        self.weights, self.hook = weights, hook
        self.total = sum(weights.values())
        self._before = 0.0  # the weight of the stages already done

    def batches(self, stage: str, images: int) -> BatchHook:
        """A hook for a computation over `images` images, told the images done after each batch."""
        weight, before = self.weights[stage], self._before

        def report(done: int) -> None:
            if self.hook is not None:
                self.hook(stage, (before + weight * done / images) / self.total)

        return report

    def start(self, stage: str) -> None:
        """`stage` begins (the ones before it done)."""
        names = list(self.weights)
        self._before = sum(self.weights[name] for name in names[: names.index(stage)])
        if self.hook is not None:
            self.hook(stage, self._before / self.total)
