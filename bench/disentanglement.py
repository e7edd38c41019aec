"""The disentanglement sweep, trained and scored: does beta-TCVAE end with a higher MIG than the plain VAE
at the same budget, seed for seed, and how far do seeds spread the scores (Locatello et al., 2019)?

In a home (a temporary one unless --home is given): draw the data set, train `train --zoo
disentanglement` (a VAE, a beta-VAE with beta 4, a beta-TCVAE with beta 6 and a FactorVAE with gamma 30,
seeds 0, 1, 2), then score
each model with every metric (model.disentanglement.scores_of) and print one row per model, each
objective's mean and standard error over its seeds, and MIG beta-TCVAE against VAE per seed. Last line:
tcvae_mig_above_vae=K/3.

Usage: python bench/disentanglement.py [--home DIR] [--dataset sprites] [--quick] [--parallel 2] [--points N]
                                       [--objectives vae,beta4,tcvae6,factorvae30] [--passes N]
(sprites-small --quick checks the script in a few minutes; the target is measured on sprites, where
`--objectives vae,tcvae6` trains only the two the target compares.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from model.checkpoint import load_network
from model.datasets import open_dataset
from model.disentanglement import DisentanglementSettings, scores_of
from model.factor_scores import factor_source
from model.home import data_root, models_root
from model.sources import sprites
from model.zoo import DISENTANGLEMENT_OBJECTIVES, DISENTANGLEMENT_SEEDS, train_zoo, zoo_entries

FIGURES = ("mig", "factor_vae_score", "beta_vae_score", "sap", "dci_disentanglement")  # the summary's


def run(
    home: Path,
    dataset_name: str,
    quick: bool,
    parallel: int,
    points: int,
    objectives: list[str],
    passes: int | None,
) -> None:
    dataset, _ = open_dataset(dataset_name, data_root(home))
    sweep = zoo_entries(
        dataset=dataset.info, train_size=len(dataset.train), quick=quick, device="cpu", zoo="disentanglement"
    )
    names_of_all = [
        name for name, _ in DISENTANGLEMENT_OBJECTIVES for _ in DISENTANGLEMENT_SEEDS
    ]  # zoo order
    chosen = [(name, entry) for name, entry in zip(names_of_all, sweep, strict=True) if name in objectives]
    names, entries = [name for name, _ in chosen], [entry for _, entry in chosen]
    if passes is not None:  # a budget of its own, the same for every model
        entries = [replace(e, train_config=replace(e.train_config, epochs=passes)) for e in entries]
    began = time.perf_counter()
    train_zoo(home, entries, dataset, parallel=parallel)
    print(f"trained {len(entries)} models in {time.perf_counter() - began:.0f} s ({parallel} at a time)")
    settings = DisentanglementSettings(points=points, eval_points=points // 2)
    results: dict[tuple[str, int], dict[str, float]] = {}
    for name, entry in zip(names, entries, strict=True):
        folder = models_root(home) / entry.model_id
        _, network = load_network(folder, "cpu")
        network.eval()
        source = factor_source(network, dataset.info)
        assert source is not None  # the sweep's data sets are sprites'
        figures = scores_of(source, settings).figures()
        history = json.loads((folder / "history.json").read_text())
        minutes = sum(record["seconds"] for record in history) / 60
        results[(name, entry.train_config.seed)] = figures
        shown = "  ".join(f"{key} {value:.3f}" for key, value in figures.items())
        print(f"{entry.model_id}: trained {minutes:.1f} min; {shown}")
    for name in objectives:
        rows = [results[(name, seed)] for seed in DISENTANGLEMENT_SEEDS]
        summary = "  ".join(
            f"{key} {statistics.mean(r[key] for r in rows):.3f} ± "
            f"{statistics.stdev(r[key] for r in rows) / len(rows) ** 0.5:.3f}"
            for key in FIGURES
        )
        print(f"{name} over seeds {DISENTANGLEMENT_SEEDS}: {summary}")
    if not {"vae", "tcvae6"} <= set(objectives):
        return
    above = sum(
        results[("tcvae6", seed)]["mig"] > results[("vae", seed)]["mig"] for seed in DISENTANGLEMENT_SEEDS
    )
    print(f"tcvae_mig_above_vae={above}/{len(DISENTANGLEMENT_SEEDS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="keep the data and models here (default: a temporary home)")
    parser.add_argument("--dataset", default=sprites.KEY, choices=sorted(sprites.GRIDS))
    parser.add_argument(
        "--quick", action="store_true", help="the zoo's quick training (a check of the script)"
    )
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--points", type=int, default=DisentanglementSettings.points)
    names = [name for name, _ in DISENTANGLEMENT_OBJECTIVES]
    parser.add_argument(
        "--objectives",
        type=lambda text: text.split(","),
        default=names,
        help=f"which of the sweep's objectives to train and score, comma-separated ({','.join(names)})",
    )
    parser.add_argument(
        "--passes", type=int, help="train each model for this many passes over the set (the zoo's, otherwise)"
    )
    args = parser.parse_args()
    if unknown := set(args.objectives) - set(names):
        parser.error(f"unknown objectives {', '.join(sorted(unknown))}; the sweep's are {', '.join(names)}")
    chosen = [name for name in names if name in args.objectives]
    if args.home is not None:
        run(args.home, args.dataset, args.quick, args.parallel, args.points, chosen, args.passes)
        return
    with tempfile.TemporaryDirectory() as scratch:
        run(Path(scratch), args.dataset, args.quick, args.parallel, args.points, chosen, args.passes)


if __name__ == "__main__":
    main()
