"""The exact posterior of the 2-D models: seconds per image and convergence of the quadrature, and the mean
exact log p(x) beside the ELBO and the IWAE bound over the first test digits.

Usage: python bench/exact_posterior.py [--digits 64] [--iwae-k 500]
(needs the default models under $LATENT_ATLAS_HOME: `make zoo`)
"""

from __future__ import annotations

import argparse
import time

from model.checkpoint import load_network
from model.data import load_prepared
from model.home import atlas_home, data_root, models_root
from model.metrics import elbo_metrics, importance_weighted_log_likelihood
from model.posterior import exact_posteriors

MODELS = ("full-2d", "recon-2d", "kl-2d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=64)
    parser.add_argument("--iwae-k", type=int, default=500)
    args = parser.parse_args()
    home = atlas_home()
    x = load_prepared(data_root(home), "mnist").test.head(args.digits).pixels()
    print(f"first {args.digits} test digits, nats per digit; ELBO over 100 draws, IWAE k = {args.iwae_k}")
    columns = ("s/image", 9), ("max change", 12), ("ELBO", 10), ("IWAE", 10), ("exact", 10), ("gap", 8)
    print(f"{'model':<10}" + "".join(f"{name:>{width}}" for name, width in columns) + f"{'IWAE part':>11}")
    for model_id in MODELS:
        _, network = load_network(models_root(home) / model_id)
        began = time.perf_counter()
        found = exact_posteriors(network, x)
        seconds = (time.perf_counter() - began) / len(x)
        exact = sum(q.log_evidence for q in found) / len(found)
        elbo = -elbo_metrics(network, x, samples=100).neg_elbo
        iwae = importance_weighted_log_likelihood(network, x, k=args.iwae_k)
        change = max(q.change for q in found)
        print(
            f"{model_id:<10}{seconds:>9.3f}{change:>12.4f}{elbo:>10.2f}{iwae:>10.2f}{exact:>10.2f}"
            f"{exact - elbo:>8.2f}{iwae - elbo:>11.2f}"
        )


if __name__ == "__main__":
    main()
