"""An outside model against a built-in one of the same size: hover decoding (decode.png, 8 concurrent)
p50/p99 on an example served through `serve --model` and on Latent Atlas's own network of the same layers
trained the same way, in one server, measured alternately in one sitting. --pair mlp: pytorch/examples'
784-400-20 VAE against the MLP 784-400-20; --pair conv: examples/conv_vae.py against the conv network of
the same stages (32 and 64 channels, a 2-D latent).

Usage: python bench/outside_model.py [--pair mlp|conv] [--requests 3000] [--rounds 3]
(MNIST from $LATENT_ATLAS_HOME, and whatever models and classifiers it holds, linked in; both models train
in a temporary home for 2 epochs on 20,000 digits first)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from serve_latency import free_port, load, percentile, start_server, workloads

from model.config import ModelConfig, TrainConfig
from model.data import load_prepared
from model.home import HOME_ENV, atlas_home, data_root, models_root
from model.train import train

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# --pair: (the built-in model's id, its network, the example's module, its id)
PAIRS = {
    "mlp": ("mlp-400-20", ModelConfig(latent_dim=20, hidden=(400,)), "pytorch_vae", "pytorch-vae"),
    "conv": (
        "conv-32-64",
        ModelConfig(latent_dim=2, architecture="conv", hidden=(32, 64)),
        "conv_vae",
        "conv-vae",
    ),
}
EPOCHS, TRAIN_IMAGES = 2, 20_000


def prepare_home(home: Path, pair: str) -> None:
    """The user's data, classifiers and models linked in (what there is of them); both models trained."""
    built_in, network, example, _ = PAIRS[pair]
    user = atlas_home()
    for name in ("data", "classifiers"):
        if (user / name).is_dir():
            (home / name).symlink_to(user / name)
    models_root(home).mkdir()
    for folder in models_root(user).iterdir() if models_root(user).is_dir() else ():
        (models_root(home) / folder.name).symlink_to(folder)
    train(
        models_root(home) / built_in,
        model_id=built_in,
        title=f"Latent Atlas {built_in}",
        model_config=network,
        config=TrainConfig(epochs=EPOCHS, batch_size=128, lr=1e-3, train_limit=TRAIN_IMAGES),
        dataset=load_prepared(data_root(user), "mnist"),
        progress=False,
    )
    options = ("--epochs", str(EPOCHS), "--limit", str(TRAIN_IMAGES))
    subprocess.run(
        [sys.executable, str(EXAMPLES / "train.py"), example, *options],
        check=True,
        env={**os.environ, HOME_ENV: str(home)},
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=sorted(PAIRS), default="mlp")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    built_in, _, example, outside = PAIRS[args.pair]
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        prepare_home(home, args.pair)
        port = free_port()
        spec = f"{outside}={EXAMPLES / (example + '.py')}:build"
        server, _ = start_server(port, home, ("--model", spec, "--no-training"))
        try:
            figures: dict[str, list[float]] = {built_in: [], outside: []}
            for _ in range(args.rounds):
                for model in (built_in, outside):  # alternating, so drift on a noisy machine hits both
                    make, _ = workloads(model)["decode.png"]
                    latencies, errors, _ = asyncio.run(load(port, make, args.requests, 8))
                    if errors:
                        raise SystemExit(f"{errors} decode.png requests to {model} failed")
                    figures[model] += [1000 * value for value in latencies]
        finally:
            server.terminate()
            server.wait()
    print(f"decode.png at 8 concurrent, {args.rounds} x {args.requests} requests per model")
    print(f"{'model':<14}{'p50 ms':>9}{'p99 ms':>9}")
    for model, ms in figures.items():
        print(f"{model:<14}{percentile(ms, 50):>9.2f}{percentile(ms, 99):>9.2f}")
    ratio = percentile(figures[outside], 99) / percentile(figures[built_in], 99)
    print(f"outside / built-in p99: {ratio:.3f}")


if __name__ == "__main__":
    main()
