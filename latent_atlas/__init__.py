"""Latent Atlas from Python: serve your own VAE and open the atlas from a notebook.

    import latent_atlas
    atlas = latent_atlas.explore(model, data="mnist")   # the explorer, inline in Jupyter
    atlas.url; atlas.stop()

`wrap` declares what the atlas must know of a model (its data set, whether its decoder gives logits or
pixel means, ...): see model/outside.py for the protocol. A factory returning `wrap(...)` (or the module
itself) serves it from the command line: `latent-atlas serve --model ID=path/to/file.py:factory`.
"""

from __future__ import annotations

from pathlib import Path

from app.notebook import Atlas, explore
from model.data import Dataset
from model.datasets import open_dataset
from model.home import atlas_home, data_root
from model.outside import Wrapped, wrap

__all__ = ["Atlas", "Wrapped", "explore", "home", "load_dataset", "wrap"]


def home() -> Path:
    """The atlas's home folder ($LATENT_ATLAS_HOME, else ~/.cache/latent-atlas): data, models, caches."""
    return atlas_home()


def load_dataset(name: str = "mnist", image_size: int | None = None) -> Dataset:
    """A data set by name (as `--dataset` takes it; a folder's at `image_size`, as a model declares it),
    fetched and prepared in the home once: `.train.pixels()` is [N, C*H*W] floats in [0, 1]."""
    return open_dataset(name, data_root(home()), image_size=image_size)[0]
