"""The registry of served models: every model folder under the home and every model the user's own code
built (`serve --model`, explore()), loaded once on one device with its data set, and the reason for each
one that could not be loaded."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from app.served_model import ServedModel
from model.data import Dataset, DataUnavailableError, load_prepared, prepared_keys
from model.device import resolve_device
from model.factories import OutsideModel
from model.home import data_root, models_root, outside_root
from model.inference import CheckpointError, LoadedModel
from model.zoo import DEFAULT_ZOO

log = logging.getLogger("latent_atlas")
ZOO_ORDER = [entry.model_id for entry in DEFAULT_ZOO]  # the default models first, in the tutorial's order


def _order_of(model_id: str) -> tuple[str, int, str]:
    """MNIST's zoo first in the tutorial's order, then each other data set's zoo (characters-full-2d, ...)
    in the same order, then the rest by name."""
    base = next((base for base in ZOO_ORDER if model_id == base or model_id.endswith(f"-{base}")), None)
    if base is None:
        return ("~", len(ZOO_ORDER), model_id)
    return (model_id.removesuffix(base), ZOO_ORDER.index(base), model_id)


@dataclass(frozen=True)
class Failure:
    """Something the registry could not serve: what it is ("model folder", "your model, built by
    M:F", "prepared data") and why."""

    what: str
    why: str


@dataclass
class ModelRegistry:
    models: dict[str, ServedModel]
    failures: dict[str, Failure]  # model id (or "data set KEY") -> what could not be loaded, and why
    datasets: dict[str, Dataset]  # by key: the data sets the models are mapped and evaluated on
    device: torch.device

    def _fail(self, name: str, what: str, error: Exception) -> None:
        log.warning("skipping model %s (%s): %s", name, what, error)
        self.failures[name] = Failure(what=what, why=str(error))

    @classmethod
    def load(
        cls, home: Path, device: str, outside: Sequence[OutsideModel] = (), *, home_models: bool = True
    ) -> ModelRegistry:
        """Load every model folder under the home's models/ (unless not `home_models`) with its prepared
        data set, the `outside` models (the user's own, checked on their data), and every other data set
        prepared there; a model that cannot be served is skipped with its reason."""
        registry = cls(models={}, failures={}, datasets={}, device=resolve_device(device))
        folders = sorted(
            (p for p in models_root(home).glob("*") if p.is_dir() and not p.name.startswith(".")),
            key=lambda folder: _order_of(folder.name),
        )
        for folder in folders if home_models else []:  # in the registry's order already
            try:
                served, dataset = registry.build(folder, data_root(home))
            except (CheckpointError, DataUnavailableError, ValueError) as error:
                registry._fail(folder.name, "model folder", error)
                continue
            registry.datasets.setdefault(dataset.info.key, dataset)
            registry.models[folder.name] = served
        for model in outside:
            try:
                registry.add(*registry.build_outside(model, home))
            except (DataUnavailableError, ValueError) as error:
                registry._fail(model.model_id, f"your model, built by {model.origin.source}", error)
        for key in prepared_keys(data_root(home)):
            if key not in registry.datasets:  # prepared, with no model yet: a job can train on it
                try:
                    registry.datasets[key] = load_prepared(data_root(home), key)
                except DataUnavailableError as error:
                    registry._fail(f"data set {key}", "prepared data", error)
        return registry

    def build(self, folder: Path, data_folder: Path) -> tuple[ServedModel, Dataset]:
        """A model folder loaded with its data set (the registry's copy, else the prepared copy under
        `data_folder`: a server never downloads, renders or reads an image folder), ready to be added; at
        start-up, or off the event loop for a hot-load. CheckpointError, DataUnavailableError or ValueError
        when it cannot be served."""
        loaded = LoadedModel.load(folder, str(self.device))
        key = loaded.dataset.key
        dataset = self.datasets.get(key) or load_prepared(data_folder, key)
        return ServedModel.build(loaded, dataset), dataset

    def build_outside(self, model: OutsideModel, home: Path) -> tuple[ServedModel, Dataset]:
        """A user's model checked on its data set, ready to be added; ValueError naming the problem."""
        if model.wrapped is None or model.dataset is None:
            raise ValueError(model.problem or "it could not be built")
        if model.model_id in self.models:
            raise ValueError(f"the id {model.model_id!r} is taken by a model in {models_root(home)}")
        key = model.dataset.key
        dataset = self.datasets.get(key) or load_prepared(data_root(home), key)
        named = dataset  # the data set as this model names its classes (the registry keeps the original)
        names = model.wrapped.declared.class_names
        if names is not None and names != dataset.info.class_names:
            if len(names) != len(dataset.info.class_names):
                raise ValueError(
                    f"class_names has {len(names)} names; {dataset.info.title} has "
                    f"{len(dataset.info.class_names)} classes"
                )
            named = replace(dataset, info=replace(dataset.info, class_names=names))
        loaded = LoadedModel.outside(
            model.model_id,
            model.wrapped,
            named.info,
            named.test,
            fit_images=named.train,
            origin=model.origin,
            folder=outside_root(home) / model.model_id,
            device=str(self.device),
        )
        return ServedModel.build(loaded, named), dataset

    def add(self, served: ServedModel, dataset: Dataset) -> None:
        """Serve `served` (replacing a model of the same id) in the registry's order: on the event loop, so
        every request sees the registry before or after, never during."""
        self.datasets.setdefault(dataset.info.key, dataset)
        models = {**self.models, served.model_id: served}
        self.models = {model_id: models[model_id] for model_id in sorted(models, key=_order_of)}
        self.failures.pop(served.model_id, None)
