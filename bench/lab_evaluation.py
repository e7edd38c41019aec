"""The lab's default evaluation of a conv model, timed: a conv VAE (16-D, the default stages) trained for
`--epochs` on MNIST and its digit classifier, then the evaluation with the lab's settings (a time budget,
k = 100) and, with --full, the CLI's (every test image, k = 500) for the figures it estimates. Prints the
images each took, its seconds, and every figure with its standard error.

Usage: python bench/lab_evaluation.py [--epochs 2] [--full]   (MNIST from $LATENT_ATLAS_HOME; 2 threads)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from model.checkpoint import load_network
from model.classifier import load_classifier, train_classifier
from model.config import ModelConfig, TrainConfig
from model.datasets import open_dataset
from model.evaluation import FIGURE_ROWS, LAB_EVALUATION, EvaluationSettings, evaluate_model
from model.home import atlas_home, data_root
from model.train import train
from model.zoo import classifier_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="also the CLI's full evaluation (many minutes)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    mnist, _ = open_dataset("mnist", data_root(atlas_home()))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "conv-16d"
        model_config = ModelConfig(latent_dim=16, architecture="conv")
        recipe = TrainConfig(epochs=args.epochs, device="cpu")
        train(folder, model_id="conv-16d", title="conv", model_config=model_config, config=recipe,
              dataset=mnist, progress=False)  # fmt: skip
        train_classifier(Path(scratch) / "classifier", classifier_config(device="cpu"), mnist)
        classifier = load_classifier(Path(scratch) / "classifier")
        _, network = load_network(folder)
        runs = {"lab": LAB_EVALUATION} | ({"full": EvaluationSettings()} if args.full else {})
        for name, settings in runs.items():
            began = time.perf_counter()
            result = evaluate_model(network, classifier, mnist.test, mnist.train, settings)
            seconds = time.perf_counter() - began
            print(f"{name}: {result.test_images} images, k = {result.iwae_k}, {seconds:.0f} s", flush=True)
            for row in FIGURE_ROWS:
                if row.applies_to(result):
                    print(f"  {row.label_for(result)}: {row.shown(result)}")


if __name__ == "__main__":
    main()
