"""Per-point metrics of a trained model, timed: every test and training image's log p(x) (k = 50), ELBO,
reconstruction error, KL and posterior entropy, as the server computes them, with their means beside the
ELBO training recorded.

Usage: python bench/point_metrics.py [--model full-16d]   (the model and MNIST from $LATENT_ATLAS_HOME)
"""

from __future__ import annotations

import argparse
import time

from model.data import evaluated_split
from model.datasets import open_dataset
from model.home import atlas_home, data_root, models_root
from model.inference import LoadedModel
from model.point_metrics import POINT_METRICS, split_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="full-16d")
    args = parser.parse_args()
    home = atlas_home()
    model = LoadedModel.load(models_root(home) / args.model, "cpu")
    assert model.checkpoint is not None, "a model trained here"
    dataset, _ = open_dataset(model.checkpoint.dataset.key, data_root(home))
    total = 0.0
    for name, images in (("test", dataset.test), ("training", dataset.train)):
        images = evaluated_split(images, model.checkpoint.train_config)
        began = time.perf_counter()
        values = split_metrics(model.network, images)
        seconds = time.perf_counter() - began
        total += seconds
        means = ", ".join(f"{POINT_METRICS[m][0]} {float(v.mean()):.2f}" for m, v in values.items())
        print(f"{len(images):,} {name} images in {seconds:.1f} s: mean {means}")
    recorded = -model.checkpoint.metrics["neg_elbo"]
    print(f"both splits: {total:.1f} s; training recorded a test ELBO of {recorded:.2f}")


if __name__ == "__main__":
    main()
