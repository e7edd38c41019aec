"""One served model: its loaded network, its map of the test split, and the batchers that hover decodes
and uploads share."""

from __future__ import annotations

import torch

from app.batching import MicroBatcher
from model.data import Digits
from model.inference import LoadedModel
from model.latent_map import LatentMap, Placement

NEIGHBORS = 8  # nearest test digits reported with an encoding


class ServedModel:
    """A loaded model with its latent map, and the responses that are the same for every visitor."""

    def __init__(self, loaded: LoadedModel, latent_map: LatentMap) -> None:
        self.loaded = loaded
        self.latent_map = latent_map
        # Single requests, batched with the ones that arrive with them: a point (map or latent) -> its
        # decoded image [28, 28], and a preprocessed image [28, 28] -> its placement on the map.
        self.decoder: MicroBatcher[list[float], torch.Tensor] = MicroBatcher(self._decode)
        self.encoder: MicroBatcher[torch.Tensor, Placement] = MicroBatcher(self._place)
        self.responses: dict[str, bytes] = {}  # serialised once by the routes: the map, the training record

    @classmethod
    def build(cls, loaded: LoadedModel, test: Digits) -> ServedModel:
        return cls(loaded, LatentMap.build(loaded, test))

    @property
    def model_id(self) -> str:
        return self.loaded.model_id

    def _decode(self, points: list[list[float]]) -> list[torch.Tensor]:
        return list(self.loaded.decode(self.latent_map.latents_of(points)).unbind())

    def _place(self, images: list[torch.Tensor]) -> list[Placement]:
        return self.latent_map.place(self.loaded, torch.stack(images), NEIGHBORS).unbind()
