"""The served state: every loaded model with its cached test-set encodings and map plane, and the digit
classifier that judges them."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from app.batching import MicroBatcher
from app.images import png_data_urls, pngs
from app.schemas import Encoding, Neighbor
from app.validation import coordinate_limit
from model.checkpoint import CheckpointError
from model.classifier import ClassifierInfo, DigitClassifier, is_trained, load_classifier
from model.data import Digits, Split
from model.device import resolve_device
from model.home import classifier_folder, models_root
from model.inference import LoadedModel
from model.report import DEFAULT_IWAE_K, DEFAULT_SAMPLES, Evaluation
from model.zoo import DEFAULT_ZOO

log = logging.getLogger("latent_atlas")
ZOO_ORDER = [entry.model_id for entry in DEFAULT_ZOO]
NEIGHBORS = 8  # nearest test digits reported with an encoding


@dataclass(frozen=True)
class MapPlane:
    """The 2-D plane a model's latent space is drawn on: z = mean + [x, y] @ components.

    For a 2-D model it is the identity; above that, the first two principal components of the test-set
    means, so that every map point decodes exactly through the plane."""

    mean: torch.Tensor  # [D]
    components: torch.Tensor  # [2, D], orthonormal rows

    @classmethod
    def fit(cls, mu: torch.Tensor) -> MapPlane:
        dim = mu.shape[1]
        if dim == 2:
            return cls(mean=torch.zeros(2), components=torch.eye(2))
        mean = mu.mean(dim=0)
        _, _, v_transposed = torch.linalg.svd(mu - mean, full_matrices=False)
        return cls(mean=mean, components=v_transposed[:2].contiguous())

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> map coordinates [B, 2]."""
        return (z - self.mean) @ self.components.T

    def lift(self, xy: torch.Tensor) -> torch.Tensor:
        """map coordinates [B, 2] -> z: [B, D] on the plane."""
        return self.mean + xy @ self.components

    def project_sigma(self, sigma: torch.Tensor) -> torch.Tensor:
        """Standard deviation of q(z|x) along each map axis: [B, D] -> [B, 2]."""
        return (sigma.pow(2) @ self.components.pow(2).T).sqrt()


@dataclass
class ServedModel:
    model: LoadedModel
    folder: Path
    test_mu: torch.Tensor  # [N, D] posterior means of the test digits
    test_sigma: torch.Tensor  # [N, D]
    test_labels: torch.Tensor  # [N]
    first_test_pixels: torch.Tensor  # [16, 784] on the model's device: fixed batches for the lab tools
    plane: MapPlane
    test_xy: torch.Tensor  # [N, 2]
    test_sigma_xy: torch.Tensor  # [N, 2]
    coordinate_limit: float  # the largest |coordinate| this model decodes
    map_cache: dict[int, bytes] = field(default_factory=dict)  # serialised map responses by limit
    estimator_cache: dict[tuple[int, ...], dict[str, list[float]]] = field(default_factory=dict)
    lab_cache: dict[str, bytes] = field(default_factory=dict)  # serialised history and snapshots
    evaluation: Evaluation | None = None
    evaluating: asyncio.Future[Evaluation] | None = None  # the one computation every caller awaits
    # Single requests, batched with the ones that arrive with them: a point (see latents_of) -> its
    # decoded PNG, and a preprocessed digit [28, 28] -> its encoding.
    png_decoder: MicroBatcher[list[float], bytes] = field(init=False)
    digit_encoder: MicroBatcher[torch.Tensor, Encoding] = field(init=False)
    test_mu_norms: torch.Tensor = field(init=False)  # [N] squared norms, for nearest()

    def __post_init__(self) -> None:
        self.png_decoder = MicroBatcher(lambda points: pngs(self.model.decode(self.latents_of(points))))
        self.digit_encoder = MicroBatcher(self.encode_digits)
        self.test_mu_norms = self.test_mu.pow(2).sum(dim=1)

    @classmethod
    def build(cls, model: LoadedModel, folder: Path, test: Digits) -> ServedModel:
        mus, sigmas = zip(*(model.encode(batch) for batch in test.pixels().split(2000)), strict=True)
        mu, sigma = torch.cat(mus), torch.cat(sigmas)
        plane = MapPlane.fit(mu)
        return cls(
            model=model,
            folder=folder,
            test_mu=mu,
            test_sigma=sigma,
            test_labels=test.labels,
            first_test_pixels=test.head(16).pixels(model.device),
            plane=plane,
            test_xy=plane.project(mu),
            test_sigma_xy=plane.project_sigma(sigma),
            coordinate_limit=coordinate_limit(torch.cat([mu, plane.project(mu)], dim=1)),
        )

    def map_json(self, model_id: str, limit: int) -> bytes:
        """The map response for the first `limit` test digits, serialised once: it is the largest
        response and the same for every visitor."""
        cached = self.map_cache.get(limit)
        if cached is None:
            xy, sigma_xy = self.test_xy[:limit], self.test_sigma_xy[:limit]
            count = xy.shape[0]
            body = {
                "model": model_id,
                "split": "test",
                "x": [round(v, 4) for v in xy[:, 0].tolist()],
                "y": [round(v, 4) for v in xy[:, 1].tolist()],
                "label": self.test_labels[:count].tolist(),
                "index": list(range(count)),
                "sigma_x": [round(v, 4) for v in sigma_xy[:, 0].tolist()],
                "sigma_y": [round(v, 4) for v in sigma_xy[:, 1].tolist()],
                "coordinate_limit": self.coordinate_limit,
                "projection": None
                if self.model.latent_dim == 2
                else {"mean": self.plane.mean.tolist(), "components": self.plane.components.tolist()},
            }
            cached = self.map_cache[limit] = json.dumps(body, separators=(",", ":")).encode()
        return cached

    def latents_of(self, points: list[list[float]]) -> torch.Tensor:
        """Points, each a full latent z [D] or a map point [x, y] (lifted through the plane) -> z [B, D].

        Plain lists until here: one tensor per batch rather than one per request (~30 us each)."""
        dim = self.model.latent_dim
        if all(len(point) == dim for point in points):
            return torch.tensor(points, dtype=torch.float32).reshape(len(points), dim)
        on_plane = torch.tensor([len(point) != dim for point in points])
        latents = torch.empty(len(points), dim)
        latents[on_plane] = self.plane.lift(torch.tensor([p for p in points if len(p) != dim]))
        if not on_plane.all():
            latents[~on_plane] = torch.tensor([p for p in points if len(p) == dim])
        return latents

    def nearest(self, mu: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k test digits whose posterior means are nearest to each row of mu:
        [B, D] -> (indices [B, k], distances [B, k]), nearest first."""
        # |t - m|^2 = |t|^2 - 2 t.m + |m|^2: one matrix product ranks every test digit (|m|^2 is the same
        # for a whole row). The k chosen distances are then computed directly, free of its cancellation.
        ranking = torch.addmm(self.test_mu_norms, mu, self.test_mu.T, alpha=-2)
        indices = ranking.topk(k, dim=1, largest=False).indices
        distances = (self.test_mu[indices] - mu[:, None]).norm(dim=2)
        return indices, distances

    def encode_digits(self, digits: list[torch.Tensor]) -> list[Encoding]:
        """Preprocessed digits [28, 28] -> q(z|x), the map point, the reconstruction and the nearest test
        digits of each, in one pass of the encoder and one of the decoder."""
        batch = torch.stack(digits)
        mu, sigma = self.model.encode(batch)
        inputs, reconstructions = png_data_urls(batch), png_data_urls(self.model.decode(mu))
        indices, distances = self.nearest(mu, NEIGHBORS)
        labels = self.test_labels[indices]
        return [
            Encoding(
                input=inputs[row],
                mu=mu[row].tolist(),
                sigma=sigma[row].tolist(),
                map_xy=map_xy,
                reconstruction=reconstructions[row],
                neighbors=[
                    Neighbor(index=i, label=label, distance=d)
                    for i, label, d in zip(
                        indices[row].tolist(), labels[row].tolist(), distances[row].tolist(), strict=True
                    )
                ],
            )
            for row, map_xy in enumerate(self.plane.project(mu).tolist())
        ]


@dataclass(frozen=True)
class Judge:
    """The digit classifier that scores decoded digits."""

    info: ClassifierInfo
    classifier: DigitClassifier


@dataclass(frozen=True, kw_only=True)
class EvaluationPlan:
    """How /evaluation computes: importance samples, z draws per digit, test digits (None: all)."""

    iwae_k: int = DEFAULT_IWAE_K
    samples: int = DEFAULT_SAMPLES
    test_limit: int | None = None


@dataclass
class Atlas:
    models: dict[str, ServedModel]
    failures: dict[str, str]  # model id (or "classifier") -> why it could not be loaded
    digits: dict[Split, Digits]
    device: torch.device
    judge: Judge | None = None  # None until `latent-atlas train --zoo` has trained it
    plan: EvaluationPlan = field(default_factory=EvaluationPlan)

    @classmethod
    def load(
        cls, home: Path, digits: dict[Split, Digits], device: str, plan: EvaluationPlan | None = None
    ) -> Atlas:
        """Load every model folder under the home's models/ (a damaged one is skipped with its reason)
        and the digit classifier."""
        models: dict[str, ServedModel] = {}
        failures: dict[str, str] = {}
        folders = sorted(
            (p for p in models_root(home).glob("*") if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: (ZOO_ORDER.index(p.name) if p.name in ZOO_ORDER else len(ZOO_ORDER), p.name),
        )
        for folder in folders:
            try:
                loaded = LoadedModel.load(folder, device)
            except CheckpointError as error:
                log.warning("skipping model %s: %s", folder.name, error)
                failures[folder.name] = str(error)
                continue
            served = models[folder.name] = ServedModel.build(loaded, folder, digits["test"])
            served.map_json(folder.name, len(digits["test"]))  # the page's first request is then instant
        judge = None
        resolved = resolve_device(device)
        if is_trained(classifier_folder(home)):
            try:
                judge = Judge(*load_classifier(classifier_folder(home), resolved))
            except CheckpointError as error:
                log.warning("no digit classifier: %s", error)
                failures["classifier"] = str(error)
        return cls(
            models=models,
            failures=failures,
            digits=digits,
            device=resolved,
            judge=judge,
            plan=plan or EvaluationPlan(),
        )
