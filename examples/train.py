"""Train an example VAE the way its own script would, and save its state_dict:

    python examples/train.py pytorch_vae     # or conv_vae, autoencoder_kl, batchnorm_vae
                                             # --epochs N, --limit N for a quick run

Its images come from the atlas's home (MNIST fetched once, as `latent-atlas serve` does), or from the
example's own `images()` (batchnorm_vae's shapes folder); an example may set its own EPOCHS and LIMIT.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

import latent_atlas

EXAMPLES = ("pytorch_vae", "conv_vae", "autoencoder_kl", "batchnorm_vae")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", choices=EXAMPLES)
    parser.add_argument("--epochs", type=int, help="default 5, or the example's EPOCHS")
    parser.add_argument("--limit", type=int, help="train on the first N images only (or the example's LIMIT)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    example = importlib.import_module(args.example)
    torch.manual_seed(args.seed)
    model = example.MODEL()
    epochs = args.epochs or getattr(example, "EPOCHS", 5)
    limit = args.limit or getattr(example, "LIMIT", None)
    images = (
        example.images() if hasattr(example, "images") else latent_atlas.load_dataset("mnist").train.pixels()
    )
    x_train = images[:limit]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, epochs + 1):
        began, total, batches = time.perf_counter(), 0.0, 0
        model.train()
        for batch in x_train[torch.randperm(len(x_train))].split(128):
            optimizer.zero_grad()
            loss = example.loss(model, batch)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        print(f"epoch {epoch}: its loss {total / batches:.4g} a batch ({time.perf_counter() - began:.0f} s)")
    path = example.weights_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp")
    torch.save(model.state_dict(), staging)
    os.replace(staging, path)  # a reader never sees half a file
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
