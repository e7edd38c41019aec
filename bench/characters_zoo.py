"""The characters zoo from nothing, timed, and how well its maps keep classes together.

In a temporary home: render the synthetic characters set, train its zoo (three 2-D loss variants, the
16-D model, the classifier), then for the 16-D and 2-D full-ELBO models: the share of each test glyph's 8
nearest test encodings (in latent space) that share its class, with EMNIST's merged classes and, for
comparison, with every case apart. Last line: characters_16d_knn8=X.

Usage: python bench/characters_zoo.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from model.datasets import open_dataset
from model.home import data_root, models_root
from model.inference import LoadedModel
from model.latent_map import LatentMap
from model.sources import characters
from model.zoo import classifier_config, train_zoo, zoo_entries, zoo_model_id

NEIGHBOURS = 8


def neighbour_agreement(latent_map: LatentMap, labels: torch.Tensor) -> float:
    """Mean share of each encoding's NEIGHBOURS nearest others that carry its label."""
    indices, _ = latent_map.nearest(latent_map.mu, NEIGHBOURS + 1)
    others = indices[:, 1:]  # the nearest is the encoding itself
    return float((labels[others] == labels[:, None]).float().mean())


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        began = time.perf_counter()
        dataset, _ = open_dataset("characters", data_root(home))
        rendered = time.perf_counter() - began
        train_zoo(
            home,
            zoo_entries(dataset=dataset.info, train_size=len(dataset.train), device="cpu"),
            dataset,
            progress=False,
            classifier=classifier_config(device="cpu"),
        )
        total = time.perf_counter() - began
        glyphs = len(dataset.train) + len(dataset.test)
        print(f"rendered {glyphs} glyphs in {rendered:.0f} s; the whole zoo took {total:.0f} s")
        # Every case its own class, for comparison: the character each test image was drawn from.
        names = dataset.info.class_names
        drawn = [
            characters.glyph_of(names[int(label)], position // len(names))
            for position, label in enumerate(dataset.test.labels)
        ]
        alphabet = sorted(set(drawn))
        apart_labels = torch.tensor([alphabet.index(char) for char in drawn])
        for base in ("full-16d", "full-2d"):
            model = LoadedModel.load(models_root(home) / zoo_model_id("characters", base), "cpu")
            latent_map = LatentMap.build(model, dataset.test)
            merged = neighbour_agreement(latent_map, dataset.test.labels)
            apart = neighbour_agreement(latent_map, apart_labels)
            print(
                f"{base}: {NEIGHBOURS}-NN share the class {merged:.1%} ({len(names)} classes); "
                f"every case apart {apart:.1%} ({len(alphabet)})"
            )
            if base == "full-16d":
                result = merged
        print(f"characters_16d_knn8={result:.4f}")


if __name__ == "__main__":
    main()
