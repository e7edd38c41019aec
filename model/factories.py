"""Models the user's own code builds, made ready to serve: a factory named on the command line
(`package.module:factory` or `path/to/file.py:factory`, as uvicorn takes `module:app`) imported and
called, the data set its model declares prepared under the home, and images held in memory made a data
set. Web requests never name a factory: only the command line and a notebook's explore() do."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from model.data import Dataset, DatasetInfo, ImageSet, prepared_source, save_prepared
from model.datasets import DATASET_HELP, open_dataset
from model.home import check_model_id, data_root
from model.inference import Origin
from model.outside import Wrapped, wrap


class FactoryNotFound(ValueError):
    """A factory name that names no callable: a typo on the command line, not the user's code failing."""


@dataclass(frozen=True)
class OutsideModel:
    """A model to serve besides the home's, as `serve --model` or explore() hands it to the server."""

    model_id: str
    origin: Origin
    wrapped: Wrapped | None  # None when it could not be built: `problem` says why
    dataset: DatasetInfo | None = None  # its data set, prepared under the home
    problem: str | None = None


def import_factory(target: str) -> Callable[[], Any]:
    """`package.module:factory` or `path/to/file.py:factory` -> the factory, imported. FactoryNotFound
    saying what could not be found; the module's own errors propagate."""
    module_name, _, attribute = target.rpartition(":")
    if not module_name or not attribute:
        raise FactoryNotFound(f"{target!r} is not package.module:factory or path/to/file.py:factory")
    if module_name.endswith(".py"):
        path = Path(module_name).expanduser().resolve()
        if not path.is_file():
            raise FactoryNotFound(f"no file {path}")
        name = f"latent_atlas_factory_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise FactoryNotFound(f"{path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look a module up by its name
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    else:
        module = importlib.import_module(module_name)
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise FactoryNotFound(f"{module_name} has no callable {attribute!r}")
    return factory  # type: ignore[no-any-return]


def build(target: str) -> Wrapped:
    """Import and call the factory `target`. ValueError saying what went wrong, the user's own exceptions
    (an import error, one raised by the factory) included."""
    try:
        made = import_factory(target)()
    except FactoryNotFound:
        raise
    except Exception as error:
        raise ValueError(f"{target} raised {type(error).__name__}: {error}") from error
    if not isinstance(made, nn.Module | Wrapped):
        raise ValueError(
            f"{target} returned {type(made).__name__}: return a torch.nn.Module or "
            "latent_atlas.wrap(module, dataset=..., decodes=...)"
        )
    return wrap(made)


def prepare(model_id: str, wrapped: Wrapped, home: Path, origin: Origin) -> OutsideModel:
    """The model with its declared data set prepared under the home (fetched or built if need be)."""
    name = wrapped.declared.dataset
    if name is None:
        raise ValueError(f"declare the data set it was trained on, dataset=: {DATASET_HELP}")
    dataset, _ = open_dataset(name, data_root(home), image_size=wrapped.declared.image_size)
    return OutsideModel(model_id, origin, wrapped, dataset=dataset.info)


def from_factory(spec: str, home: Path) -> OutsideModel:
    """`ID=TARGET` from the command line -> the model ready to serve, or with the problem that keeps it
    from being served (the factory is never called again: the server starts without it)."""
    model_id, equals, target = spec.partition("=")
    if not equals:
        raise ValueError(f"--model {spec!r}: write ID=package.module:factory or ID=path/to/file.py:factory")
    check_model_id(model_id)
    origin = Origin("factory", target)
    try:
        return prepare(model_id, build(target), home, origin)
    except ValueError as error:  # a user's factory fails alone: the other models are served
        problem = str(error)
    except Exception as error:  # the data set could not be had (DataUnavailableError names every way)
        problem = f"{type(error).__name__}: {error}"
    return OutsideModel(model_id, origin, None, problem=problem)


def _tensor(values: Any) -> torch.Tensor:
    """A tensor, an array or nested lists as a CPU tensor (arrays and lists through NumPy, which stacks
    a list of arrays at once)."""
    tensor = values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    return tensor.detach().cpu()


def _as_uint8_images(images: Any) -> torch.Tensor:
    """[N, H, W] or [N, C, H, W] in [0, 1] (floats) or 0..255 (uint8), a tensor or an array ->
    [N, C, H, W] uint8."""
    tensor = _tensor(images)
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(1)
    if tensor.ndim != 4 or len(tensor) < 2:
        raise ValueError(f"images must be [N, H, W] or [N, C, H, W] with N >= 2, got {list(tensor.shape)}")
    if tensor.dtype == torch.uint8:
        return tensor.contiguous()
    if not tensor.is_floating_point():
        raise ValueError(f"images must be floats in [0, 1] or uint8, got {tensor.dtype}")
    if not torch.isfinite(tensor).all() or tensor.min() < 0 or tensor.max() > 1:
        raise ValueError("images must be floats in [0, 1]: found values outside it (or NaN)")
    return tensor.mul(255).round().to(torch.uint8).contiguous()


def memory_dataset(
    images: Any,
    labels: Any | None = None,
    class_names: Sequence[str] | None = None,
    title: str = "your images",
) -> Dataset:
    """Images held in memory as a data set: both its splits are these images (they are the map and what
    evaluation measures). Its key is of the pixels and labels, so the same images are the same data set."""
    pixels = _as_uint8_images(images)
    if labels is None:
        targets = torch.zeros(len(pixels), dtype=torch.int64)
        class_names = ("image",)
    else:
        targets = _tensor(labels).to(torch.int64).reshape(-1)
        if len(targets) != len(pixels) or targets.min() < 0:
            raise ValueError(f"labels must be {len(pixels)} class numbers >= 0, got {list(targets.shape)}")
    count = int(targets.max()) + 1
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(count))
    if len(names) < count:
        raise ValueError(f"class_names has {len(names)} names for labels up to {count - 1}")
    split = ImageSet(pixels, targets)
    channels, height, width = split.image_shape
    info = DatasetInfo(
        key=f"memory-{split.fingerprint()}",
        title=title,
        image_shape=(channels, height, width),
        class_names=names,
        preprocessing="resize" if channels == 3 else "object",
        labelled=labels is not None,
        note="images given in memory, to explore() or from a notebook",
    )
    return Dataset(info, split, split)


def prepare_in_memory(dataset: Dataset, home: Path) -> None:
    """Keep an in-memory data set prepared under the home, as every data set is, so its classifier can be
    trained like any other's."""
    if prepared_source(data_root(home), dataset.info.key) is None:
        save_prepared(data_root(home), dataset, {"memory": f"{len(dataset.test)} images"})
