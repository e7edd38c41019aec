"""Training speed: the loop users copy from pytorch/examples (DataLoader + ToTensor) against our trainer.

Runs, in one process on one machine:
  1. the pytorch/examples VAE (784-400-20-400-784, batch 128, Adam 1e-3, summed BCE + KL) for 10 epochs
     through torchvision's DataLoader;
  2. the same configuration through model.train (the whole split on the device, sliced into batches);
  3. our trainer with faster settings, timed (wall clock, evaluation and checkpoints included) until its
     test loss first reaches the conventional loop's final test loss.
The last line reads: per_epoch_speedup=X loss_gap=Y time_to_target_speedup=Z

Usage: python bench/train_speed.py [--epochs 10]   (MNIST from $LATENT_ATLAS_HOME, fetched if missing)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from model.config import ModelConfig, TrainConfig
from model.datasets import open_dataset
from model.factories import import_factory
from model.home import atlas_home, data_root
from model.sources.mnist import ensure_mnist
from model.train import train

SEED = 1
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pytorch_vae.py"


def run_conventional(root: Path, epochs: int) -> tuple[list[float], list[float]]:
    """-> seconds per training epoch, test loss (nats per digit) after each epoch."""
    torch.manual_seed(SEED)
    to_tensor = transforms.ToTensor()
    train_loader = DataLoader(
        datasets.MNIST(root, train=True, transform=to_tensor), batch_size=128, shuffle=True
    )
    test_loader = DataLoader(datasets.MNIST(root, train=False, transform=to_tensor), batch_size=128)
    model = import_factory(f"{EXAMPLE}:VAE")()  # the pytorch/examples VAE, as examples/ holds it
    example_loss = import_factory(f"{EXAMPLE}:loss")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, test_losses = [], []
    for epoch in range(1, epochs + 1):
        began = time.perf_counter()
        model.train()
        for data, _ in train_loader:
            optimizer.zero_grad()
            loss = example_loss(model, data)
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - began)
        model.eval()
        total = 0.0
        with torch.no_grad():
            for data, _ in test_loader:
                total += example_loss(model, data).item()
        test_losses.append(total / len(test_loader.dataset))  # type: ignore[arg-type]
        print(
            f"  conventional epoch {epoch}: {seconds[-1]:.2f} s, test loss {test_losses[-1]:.2f}", flush=True
        )
    return seconds, test_losses


def run_ours(
    name: str, scratch: Path, root: Path, model_config: ModelConfig, config: TrainConfig
) -> list[dict[str, Any]]:
    """-> history records, each with `wall`: seconds since the call began (evaluation and saving included)."""
    began = time.perf_counter()
    records: list[dict[str, Any]] = []

    def on_epoch(record: dict[str, Any], _snapshot: torch.Tensor) -> None:
        records.append({**record, "wall": time.perf_counter() - began})
        print(
            f"  {name} epoch {record['epoch']}: {record['seconds']:.2f} s, "
            f"test loss {record['test_neg_elbo']:.2f}, wall {records[-1]['wall']:.1f} s",
            flush=True,
        )

    train(
        scratch / name,
        model_id=name,
        title=name,
        model_config=model_config,
        config=config,
        dataset=open_dataset("mnist", root)[0],
        progress=False,
        on_epoch=on_epoch,
    )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--fast-epochs", type=int, default=8, help="cosine schedule length for run 3")
    args = parser.parse_args()
    root = ensure_mnist(data_root(atlas_home()))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")

    print("1. conventional DataLoader loop")
    conventional_seconds, conventional_losses = run_conventional(root, args.epochs)
    example = ModelConfig(latent_dim=20, hidden=(400,))
    with tempfile.TemporaryDirectory() as scratch:
        print("2. our trainer, same configuration")
        same = run_ours(
            "same-config",
            Path(scratch),
            root,
            example,
            TrainConfig(epochs=args.epochs, batch_size=128, lr=1e-3, seed=SEED, device="cpu"),
        )
        print("3. our trainer, fast settings")
        fast_config = TrainConfig(
            epochs=args.fast_epochs, batch_size=128, lr=3e-3, lr_schedule="cosine", seed=SEED, device="cpu"
        )
        fast = run_ours("fast", Path(scratch), root, example, fast_config)

    conventional_epoch = sum(conventional_seconds) / len(conventional_seconds)
    ours_epoch = sum(r["seconds"] for r in same) / len(same)
    target = conventional_losses[-1]
    conventional_total = sum(conventional_seconds)
    reached = next((r for r in fast if r["test_neg_elbo"] <= target), None)
    print()
    print(f"seconds per epoch: conventional {conventional_epoch:.2f}, ours {ours_epoch:.2f}")
    ours_loss = same[-1]["test_neg_elbo"]
    print(f"final test loss after {args.epochs} epochs: conventional {target:.2f}, ours {ours_loss:.2f}")
    print(f"conventional loop: {conventional_total:.1f} s of training to reach {target:.2f}")
    if reached is None:
        best = min(r["test_neg_elbo"] for r in fast)
        print(f"fast settings ({fast_config}) did not reach {target:.2f}: best {best:.2f}")
        time_to_target_speedup = float("nan")
    else:
        print(f"ours (fast settings) reached it after epoch {reached['epoch']}, at {reached['wall']:.1f} s")
        time_to_target_speedup = conventional_total / reached["wall"]
    loss_gap = ours_loss - target
    print(
        f"per_epoch_speedup={conventional_epoch / ours_epoch:.2f} loss_gap={loss_gap:.2f} "
        f"time_to_target_speedup={time_to_target_speedup:.2f}"
    )


if __name__ == "__main__":
    main()
