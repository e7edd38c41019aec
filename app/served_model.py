"""One served model: its loaded network, its map of the test split, and the batchers that hover decodes
and uploads share."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from functools import cached_property

import torch

from app.batching import MicroBatcher
from app.images import pngs
from model.data import Dataset, MapSplit, Split
from model.encodings import EncodingsKey, read_encodings, write_encodings
from model.inference import LoadedModel
from model.latent_map import LatentMap, MapPlane, Placement
from model.traversal import DimensionUse

NEIGHBORS = 8  # nearest test images reported with an encoding
log = logging.getLogger("latent_atlas")


class ServedModel:
    """A loaded model with its latent map, and the responses that are the same for every visitor."""

    def __init__(self, loaded: LoadedModel, dataset: Dataset, latent_map: LatentMap) -> None:
        self.loaded = loaded
        self.dataset = dataset  # what it was trained on: its test split is the map
        self.latent_map = latent_map
        # Single requests, batched with the ones that arrive with them: a point (map or latent) -> its
        # decoded image as PNG bytes, and a preprocessed image [C, H, W] -> its placement on the map. The
        # hover path's PNGs are written per batch (pixel conversion, row filters and header once): writing
        # them per request cost a quarter of decode.png's throughput at 32 concurrent (3,600-3,900 against
        # 2,600-3,200 requests/s, bench/serve_latency.py, alternating runs).
        self.png_decoder: MicroBatcher[list[float], bytes] = MicroBatcher(self._decode_pngs)
        self.encoder: MicroBatcher[torch.Tensor, Placement] = MicroBatcher(self._place)
        self.responses: dict[str, bytes] = {}  # serialised once by the routes: the map, the training record
        self._maps: dict[MapSplit, LatentMap] = {"test": latent_map}
        self.preparing: asyncio.Task[None] | None = None  # the map of both splits, made in the background
        self._maps_lock = threading.Lock()

    @classmethod
    def build(cls, loaded: LoadedModel, dataset: Dataset) -> ServedModel:
        return cls(loaded, dataset, encoded_split(loaded, dataset, "test"))

    @property
    def model_id(self) -> str:
        return self.loaded.model_id

    def map_of(self, split: MapSplit, on_batch: Callable[[int], None] | None = None) -> LatentMap:
        """The map of a split: the test split's is built at load; the training split's (and both together,
        test first) are encoded on first use, on the test map's plane so that every point sits where the
        same latent would on the test map (`on_batch` hears the training images encoded so far)."""
        with self._maps_lock:  # two first requests encode the training split once
            if split not in self._maps:
                train = self._maps.get("train") or encoded_split(
                    self.loaded, self.dataset, "train", self.latent_map.plane, on_batch
                )
                self._maps["train"] = train
                self._maps["all"] = self.latent_map.joined(train)
            return self._maps[split]

    def has_map(self, split: MapSplit) -> bool:
        """Whether the split is encoded (map_of then returns at once)."""
        return split in self._maps

    def size_of(self, split: MapSplit) -> int:
        """How many points the split's map holds, without encoding it."""
        parts: tuple[Split, ...] = ("test", "train") if split == "all" else (split,)
        return sum(len(self.dataset.split(part)) for part in parts)

    def point_of(self, split: MapSplit, position: int) -> tuple[Split, int]:
        """A point of a split's map -> (its split, its index there): "all" holds the test split first."""
        if split != "all":
            return split, position
        tests = len(self.latent_map)
        return ("test", position) if position < tests else ("train", position - tests)

    def noun(self, split: MapSplit) -> str:
        """What a point of the split's map is called in messages."""
        return {"test": "test image", "train": "training image", "all": "point of the map"}[split]

    @cached_property
    def dimension_use(self) -> DimensionUse:
        """How the model uses each latent dimension over the test split (KL, activity)."""
        return DimensionUse.of(self.latent_map.mu, self.latent_map.sigma)

    def _decode_pngs(self, points: list[list[float]]) -> list[bytes]:
        return pngs(self.loaded.decode(self.latent_map.latents_of(points)))

    def _place(self, images: list[torch.Tensor]) -> list[Placement]:
        return self.latent_map.place(self.loaded, torch.stack(images), NEIGHBORS).unbind()


def encoded_split(
    loaded: LoadedModel,
    dataset: Dataset,
    split: Split,
    plane: MapPlane | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> LatentMap:
    """A split's map from the encodings cached beside the model, or encoded (`on_batch` hears the images
    encoded so far) and cached: a server's next start, and the other server processes, read them rather
    than encode the split again (minutes for a large model's test split on a CPU)."""
    images = dataset.split(split)
    key = EncodingsKey(loaded.weights, dataset.info.key, split, len(images))
    cached = read_encodings(loaded.folder, key)
    if cached is not None:
        return LatentMap(*cached, images.labels, plane)
    latent_map = LatentMap.build(loaded, images, plane=plane, on_batch=on_batch)
    try:
        write_encodings(loaded.folder, key, latent_map.mu, latent_map.sigma)
    except OSError:  # a full disk or a read-only folder: encoded again next time, served now
        log.warning("could not cache %s's %s encodings", loaded.model_id, split, exc_info=True)
    return latent_map
