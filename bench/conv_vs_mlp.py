"""The convolutional VAE against the MLP on MNIST, at the same latent size and the same wall-clock budget.

For each architecture: one probe epoch measures its speed on this machine, then a fresh model trains for
as many epochs as fit the budget (cosine schedule over that run, so each ends at its lowest learning
rate), and is scored on the 10,000 test digits: -ELBO with 10 z draws per digit, and the importance-
weighted bound at k = 100. The last line reads: conv_minus_mlp_neg_elbo=X (negative: conv is better).

Usage: python bench/conv_vs_mlp.py [--budget 180] [--latent-dim 16]   (MNIST from $LATENT_ATLAS_HOME)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from model.checkpoint import load_history, load_network
from model.config import ModelConfig, TrainConfig
from model.data import Dataset
from model.datasets import open_dataset
from model.home import atlas_home, data_root
from model.metrics import elbo_metrics, importance_weighted_log_likelihood
from model.train import train

ARCHITECTURES = {  # the MLP as full-16d has it; the conv network at its default stages
    "mlp": ModelConfig(architecture="mlp", hidden=(512, 256)),
    "conv": ModelConfig(architecture="conv", hidden=(32, 64)),
}


@dataclass(frozen=True)
class Result:
    architecture: str
    parameters: int
    epochs: int
    seconds: float
    images_per_second: float
    neg_elbo: float
    iwae: float


def run(name: str, latent_dim: int, budget: float, mnist: Dataset) -> Result:
    model_config = ModelConfig(**{**vars(ARCHITECTURES[name]), "latent_dim": latent_dim})
    with tempfile.TemporaryDirectory() as scratch:
        probe = TrainConfig(epochs=1, lr=1e-3, lr_schedule="cosine", device="cpu")
        train(Path(scratch) / "probe", model_id="probe", title=f"{name} probe", model_config=model_config,
              config=probe, dataset=mnist, progress=False)  # fmt: skip
        epoch_seconds = load_history(Path(scratch) / "probe")[0]["seconds"]
        epochs = max(1, int(budget // epoch_seconds))
        config = TrainConfig(epochs=epochs, lr=1e-3, lr_schedule="cosine", device="cpu")
        began = time.perf_counter()
        folder = Path(scratch) / name
        train(folder, model_id=name, title=name, model_config=model_config, config=config,
              dataset=mnist, progress=False)  # fmt: skip
        seconds = time.perf_counter() - began
        history = load_history(folder)
        _, network = load_network(folder)
        x = mnist.test.pixels()
        return Result(
            architecture=name,
            parameters=sum(p.numel() for p in network.parameters()),
            epochs=epochs,
            seconds=seconds,
            images_per_second=sum(r["images_per_second"] for r in history) / len(history),
            neg_elbo=elbo_metrics(network, x, samples=10).neg_elbo,
            iwae=importance_weighted_log_likelihood(network, x, k=100),
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=180.0, help="seconds of training per architecture")
    parser.add_argument("--latent-dim", type=int, default=16)
    args = parser.parse_args()
    mnist, _ = open_dataset("mnist", data_root(atlas_home()))
    print(f"budget {args.budget:.0f} s of training each, latent_dim {args.latent_dim}, CPU")
    print(f"{'model':<6}{'params':>10}{'epochs':>8}{'train s':>9}{'img/s':>9}{'-ELBO':>9}{'-IWAE100':>10}")
    results = {}
    for name in ARCHITECTURES:
        result = results[name] = run(name, args.latent_dim, args.budget, mnist)
        print(
            f"{name:<6}{result.parameters:>10,}{result.epochs:>8}{result.seconds:>9.0f}"
            f"{result.images_per_second:>9.0f}{result.neg_elbo:>9.2f}{-result.iwae:>10.2f}",
            flush=True,
        )
    print(f"conv_minus_mlp_neg_elbo={results['conv'].neg_elbo - results['mlp'].neg_elbo:.2f}")


if __name__ == "__main__":
    main()
