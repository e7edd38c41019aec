"""The small inference API the web layer uses: load once (a model folder, or a user's own model), then
encode, decode, interpolate, sample, and read the model's training record (history and per-epoch latent
snapshots)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import torch

from model.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    LatentSnapshots,
    load_history,
    load_latents,
    load_network,
    weights_fingerprint,
)
from model.data import DatasetInfo, ImageSet
from model.device import resolve_device
from model.outside import CHECK_BATCH, FIT_IMAGES, Wrapped
from model.vae import LatentModel

InterpolationMethod = Literal["linear", "slerp"]
__all__ = [
    "CheckpointError",
    "InterpolationMethod",
    "LoadedModel",
    "Origin",
    "interpolate_latents",
    "interpolate_path",
]


def interpolate_latents(
    z_start: torch.Tensor, z_end: torch.Tensor, steps: int, method: InterpolationMethod = "linear"
) -> torch.Tensor:
    """`steps` points from z_start to z_end (both [D]), endpoints included: [steps, D].

    linear: a straight line, whose midpoints fall towards the origin where the prior has little mass
    in high dimensions. slerp: along the great circle between the two directions, with the norm
    moving linearly from |z_start| to |z_end| (White, 2016, "Sampling generative networks").
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if method not in ("linear", "slerp"):
        raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")
    t = torch.linspace(0.0, 1.0, steps, device=z_start.device, dtype=z_start.dtype).unsqueeze(1)
    linear = (1 - t) * z_start + t * z_end
    if method == "linear":
        return linear
    norm_start, norm_end = z_start.norm(), z_end.norm()
    if min(norm_start.item(), norm_end.item()) < 1e-8:
        return linear  # a zero vector has no direction to turn from
    u_start, u_end = z_start / norm_start, z_end / norm_end
    omega = torch.arccos((u_start @ u_end).clamp(-1.0, 1.0))
    if omega.item() < 1e-6:
        direction = (1 - t) * u_start + t * u_end
    else:
        direction = (torch.sin((1 - t) * omega) * u_start + torch.sin(t * omega) * u_end) / torch.sin(omega)
    direction = direction / direction.norm(dim=1, keepdim=True)
    z: torch.Tensor = ((1 - t) * norm_start + t * norm_end) * direction
    return z


def interpolate_path(ends: torch.Tensor, steps: int, method: InterpolationMethod = "linear") -> torch.Tensor:
    """Through every end in turn (ends: [K, D], K >= 2), `steps` points per leg, each end once:
    [(K - 1) * (steps - 1) + 1, D]. The tutorial's Fig. 5 is such a path (@ -> 9 -> a)."""
    if ends.ndim != 2 or ends.shape[0] < 2:
        raise ValueError(f"ends must be [K >= 2, D], got {list(ends.shape)}")
    legs = [interpolate_latents(a, b, steps, method) for a, b in pairwise(ends)]
    return torch.cat([legs[0], *(leg[1:] for leg in legs[1:])])


OriginKind = Literal["checkpoint", "factory", "notebook"]


@dataclass(frozen=True)
class Origin:
    """Where a served model came from: a model folder trained here ("checkpoint", source: its folder), a
    factory named on the command line ("factory", source: MODULE:FACTORY) or a notebook's
    latent_atlas.explore() ("notebook", source: the module's class)."""

    kind: OriginKind
    source: str


class LoadedModel:
    """A model loaded once: its network in eval mode on one device, trained here or brought from outside
    (model/outside.py). Images are [B, C, H, W] floats in [0, 1], in the shape of its data set's images.
    Loading a folder raises CheckpointError naming the damaged file."""

    def __init__(
        self,
        *,
        model_id: str,
        title: str,
        network: LatentModel,
        dataset: DatasetInfo,
        device: torch.device,
        origin: Origin,
        folder: Path,
        weights: str,
        checkpoint: CheckpointInfo | None = None,
    ) -> None:
        self.model_id = model_id  # the id it is served under
        self.title = title
        self.network = network
        self.dataset = dataset
        self.device = device
        self.origin = origin
        self.folder = folder  # the model folder, or an outside model's folder of cached evaluations
        self.weights = weights  # the weights' fingerprint, which a cached evaluation must match
        self.checkpoint = checkpoint  # config.json of a model trained here; None for an outside model

    @classmethod
    def load(cls, folder: Path, device: str = "auto") -> LoadedModel:
        resolved = resolve_device(device)
        info, network = load_network(folder, resolved)
        return cls(
            model_id=folder.name,
            title=info.title,
            network=network,
            dataset=info.dataset,
            device=resolved,
            origin=Origin("checkpoint", f"{folder.parent.name}/{folder.name}"),  # no server path shown
            folder=folder,
            weights=weights_fingerprint(folder),
            checkpoint=info,
        )

    @classmethod
    def outside(
        cls,
        model_id: str,
        wrapped: Wrapped,
        dataset: DatasetInfo,
        check_images: ImageSet,
        *,
        origin: Origin,
        folder: Path,
        device: str = "auto",
        fit_images: ImageSet | None = None,
    ) -> LoadedModel:
        """A user's model on `dataset`, checked on a batch of `check_images` (ValueError naming the
        problem when it cannot be served); a gaussian's undeclared scale is fitted on `fit_images` (the
        training split)."""
        resolved = resolve_device(device)
        network = wrapped.adapt(dataset.image_shape, resolved)
        fit = None if fit_images is None else fit_images.head(FIT_IMAGES).pixels(resolved)
        network.check(check_images.head(CHECK_BATCH).pixels(resolved), fit)
        return cls(
            model_id=model_id,
            title=wrapped.declared.title or model_id,
            network=network,
            dataset=dataset,
            device=resolved,
            origin=origin,
            folder=folder,
            weights=network.fingerprint(),
        )

    @property
    def latent_dim(self) -> int:
        return self.network.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.dataset.image_shape

    @property
    def pixels(self) -> int:
        channels, height, width = self.image_shape
        return channels * height * width

    def history(self) -> list[dict[str, Any]]:
        """Train and test metrics per epoch, as training wrote them."""
        return load_history(self.folder)

    def snapshots(self) -> LatentSnapshots:
        """Latent means of a fixed test subset after every epoch."""
        return load_latents(self.folder)

    def _as_latents(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape [B, {self.latent_dim}], got {list(z.shape)}")
        return z.to(self.device, torch.float32)

    @torch.inference_mode()
    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images: [B, C, H, W] or [B, C*H*W] (or [B, H, W] for one channel) -> mu, sigma: [B, D]
        (on the CPU)."""
        pixels = self.pixels
        if images.ndim not in (2, 3, 4) or images[0].numel() != pixels:
            shape = list(self.image_shape)
            raise ValueError(
                f"images must be [B, {', '.join(map(str, shape))}] or [B, {pixels}], got {list(images.shape)}"
            )
        flat = images.reshape(images.shape[0], pixels)
        posterior = self.network.encode(flat.to(self.device, torch.float32))
        return posterior.mu.cpu(), posterior.sigma.cpu()

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> the mean images of p(x|z), [B, C, H, W] in [0, 1] (on the CPU; a Gaussian's mean
        clipped to the range an image can show)."""
        means = self.network.decode_mean(self._as_latents(z)).clamp(0.0, 1.0)
        return means.reshape(-1, *self.image_shape).cpu()

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean of each image: [B, C, H, W]."""
        mu, _ = self.encode(images)
        return self.decode(mu)

    def interpolate(
        self, ends: torch.Tensor, steps: int, method: InterpolationMethod = "linear"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Along a path through ends [K >= 2, D], `steps` points per leg -> (z [N, D], images [N, C, H, W])
        with N = (K - 1) * (steps - 1) + 1."""
        z = interpolate_path(self._as_latents(ends), steps, method)
        return z.cpu(), self.decode(z)

    @torch.inference_mode()
    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw z ~ N(0, temperature^2 I), seeded -> (z [n, D], images [n, C, H, W])."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        z, pixels = self.network.sample(n, torch.Generator().manual_seed(seed), temperature)
        return z.cpu(), pixels.reshape(-1, *self.image_shape).cpu()
