"""What the live latent health costs a training epoch: one epoch of the default MLP and conv recipes (16-D)
on MNIST through model.train, whose record holds the epoch's training time, then the split of the KL term
of the first 1,000 test images (model/latent_health.py, what each epoch now computes) timed on the trained
network, as the median of 5 runs, in the same process.

Usage: python bench/latent_health.py   (MNIST from $LATENT_ATLAS_HOME, fetched if missing)
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from model.checkpoint import load_network
from model.config import ModelConfig, TrainConfig
from model.datasets import open_dataset
from model.home import atlas_home, data_root
from model.latent_health import HEALTH_IMAGES, health_of
from model.train import train

RECIPES = {
    "MLP": ModelConfig(latent_dim=16),
    "conv": ModelConfig(latent_dim=16, architecture="conv"),
}


def main() -> None:
    dataset, _ = open_dataset("mnist", data_root(atlas_home(None)))
    x_test = dataset.test.pixels()[:HEALTH_IMAGES]
    for name, model_config in RECIPES.items():
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "model"
            config = TrainConfig(epochs=1, device="cpu")
            train(
                folder,
                model_id="bench",
                title=name,
                model_config=model_config,
                config=config,
                dataset=dataset,
            )
            (record,) = json.loads((folder / "history.json").read_text())
            _, network = load_network(folder)
        network.eval()
        seconds = []
        for _ in range(5):
            began = time.perf_counter()
            split = health_of(network, x_test)
            seconds.append(time.perf_counter() - began)
        with torch.inference_mode():
            kl = float(network.encode(x_test).kl().mean())  # the same images' KL term, in closed form
        health = statistics.median(seconds)
        share = 100 * health / record["seconds"]
        print(f"{name}: epoch {record['seconds']:.1f} s; the KL term's split {health:.3f} s, {share:.1f}%")
        print(
            f"  I(x; z) {split.mutual_information:.2f} of at most {split.bound:.2f} nats + "
            f"KL(q(z) || p(z)) {split.marginal_kl:.2f} = {split.mutual_information + split.marginal_kl:.2f}; "
            f"the same images' KL term {kl:.2f}"
        )


if __name__ == "__main__":
    main()
