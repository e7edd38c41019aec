"""Nonlinear planes of a trained model's map, measured: how often the 8 nearest test images of an image
share its class in the latent space, on the PCA plane, on UMAP's and on t-SNE's (each fitted as the
server fits it, in a fresh process: numba's compilation included), and the seconds each took; then UMAP of
both splits' encodings (70,000 for MNIST).

Usage: python bench/planes.py [--model full-16d] [--skip-all]   (the model and MNIST from $LATENT_ATLAS_HOME)
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import numpy as np
import torch

from model.datasets import open_dataset
from model.home import atlas_home, data_root, models_root
from model.inference import LoadedModel
from model.latent_map import LatentMap
from model.planes import NonlinearMethod, fit_embedding


def agreement(points: torch.Tensor, labels: torch.Tensor, k: int = 8) -> float:
    """How often the k nearest points of a point share its label (brute force, in rows of 2,000)."""
    agreeing = 0.0
    for start in range(0, len(points), 2000):
        distances = torch.cdist(points[start : start + 2000], points)
        rows = torch.arange(len(distances))
        distances[rows, rows + start] = float("inf")
        nearest = distances.topk(k, largest=False).indices
        agreeing += float((labels[nearest] == labels[start : start + 2000, None]).sum())
    return agreeing / (len(points) * k)


def _fit(method: NonlinearMethod, mu: np.ndarray) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    xy = fit_embedding(method, mu, lambda stage, fraction: None)
    return xy, time.perf_counter() - started


def fitted_in_a_fresh_process(method: NonlinearMethod, mu: np.ndarray) -> tuple[np.ndarray, float]:
    """The plane and its seconds, fitted in a new process as the server's plane process does (so numba
    compiles, as on a server's first plane)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        started = time.perf_counter()
        xy, _ = pool.apply(_fit, (method, mu))
        return xy, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="full-16d")
    parser.add_argument("--skip-all", action="store_true", help="leave out UMAP of both splits")
    args = parser.parse_args()
    home = atlas_home()
    model = LoadedModel.load(models_root(home) / args.model, "cpu")
    assert model.checkpoint is not None, "a model trained here"
    dataset, _ = open_dataset(model.checkpoint.dataset.key, data_root(home))
    test = LatentMap.build(model, dataset.test)
    chance = 1 / len(dataset.info.class_names)
    print(f"{args.model}, {len(test)} test images: 8-NN class agreement (chance ~{chance:.0%})")
    latent, pca = agreement(test.mu, test.labels), agreement(test.xy, test.labels)
    print(f"  latent space {latent:.1%}   PCA plane {pca:.1%}")
    for method in ("umap", "tsne"):
        xy, seconds = fitted_in_a_fresh_process(method, test.mu.numpy())
        print(f"  {method:5s} plane {agreement(torch.from_numpy(xy), test.labels):.1%}   in {seconds:.0f} s")
    if not args.skip_all:
        both = test.joined(LatentMap.build(model, dataset.train, plane=test.plane))
        _, seconds = fitted_in_a_fresh_process("umap", both.mu.numpy())
        print(f"UMAP of {len(both)} {test.latent_dim}-D encodings (both splits): {seconds:.0f} s")


if __name__ == "__main__":
    main()
