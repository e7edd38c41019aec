"""The importance-weighted bound on log p(x) (Burda et al., 2016) as the evaluation computes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.checkpoint import load_network
from model.data import ImageSet
from model.metrics import elbo_metrics, importance_weighted_log_likelihood


def test_the_bound_is_the_same_whatever_chunks_its_samples_are_decoded_in(
    tiny_model: Path, test_set: ImageSet
) -> None:
    _, network = load_network(tiny_model)
    x = test_set.head(30).pixels()
    whole = importance_weighted_log_likelihood(network, x, k=250, chunk_size=250)
    assert importance_weighted_log_likelihood(network, x, k=250, chunk_size=7) == pytest.approx(
        whole, abs=1e-4
    )


def test_the_bound_rises_with_k_from_the_elbo(tiny_model: Path, test_set: ImageSet) -> None:
    _, network = load_network(tiny_model)
    x = test_set.head(300).pixels()
    elbo = -elbo_metrics(network, x, samples=20).neg_elbo
    bounds = [importance_weighted_log_likelihood(network, x, k=k) for k in (1, 10, 100)]
    assert bounds[0] == pytest.approx(elbo, abs=1.0)  # k = 1 is the ELBO (one draw per digit)
    assert bounds[0] < bounds[1] < bounds[2]
