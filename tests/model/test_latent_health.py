"""The KL term's split into I(x; z) and KL(q(z) || p(z)), against quadrature of the aggregate posterior on
a 2-D model's grid, against the closed-form KL term, at the two ends (no information; all of log N), and
recorded with every epoch."""

import json
import math
from pathlib import Path

import pytest
import torch

from model.data import Dataset, ImageSet
from model.latent_health import HEALTH_IMAGES, kl_split
from model.vae import prior_log_prob
from tests.conftest import TINY_TEST, posteriors, train_tiny

IMAGES = 1000


def closed_form_kl(mu: torch.Tensor, logvar: torch.Tensor) -> float:
    """The mean KL(q(z|x_n) || N(0, I)) over the images."""
    mu, logvar = mu.double(), logvar.double()
    return float((0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).sum(dim=1).mean())


def quadrature(mu: torch.Tensor, logvar: torch.Tensor) -> tuple[float, float]:
    """(KL(q(z) || p(z)), I(x; z)) of the 2-D mixture q(z) = mean_n N(mu_n, sigma_n^2), the first by the
    midpoint rule over q's support on a grid as fine as the narrowest sigma (on a Gaussian that rule errs by
    about exp(-2 pi^2 sigma^2 / step^2), 3e-9 here; a grid twice as fine agrees to 1e-10), the second as
    the KL term less it (the identity the estimator is not given)."""
    mu, sigma = mu.double(), (0.5 * logvar.double()).exp()
    step = float(sigma.min())
    low, high = (mu - 7 * sigma).min(dim=0).values, (mu + 7 * sigma).max(dim=0).values
    xs = torch.arange(float(low[0]), float(high[0]), step, dtype=torch.float64) + step / 2
    ys = torch.arange(float(low[1]), float(high[1]), step, dtype=torch.float64) + step / 2
    mass = marginal = 0.0
    constant = (2 * sigma.log()).sum(dim=1) + 2 * math.log(2 * math.pi)
    for y in ys.split(64):
        grid = torch.stack(torch.meshgrid(xs, y, indexing="ij"), dim=-1).reshape(-1, 2)
        log_q = torch.logsumexp(
            -0.5 * (((grid[:, None] - mu[None]) / sigma[None]).pow(2).sum(-1) + constant[None]), dim=1
        ) - math.log(len(mu))
        q = log_q.exp()
        mass += float(q.sum()) * step**2
        marginal += float((q * (log_q - prior_log_prob(grid))).sum()) * step**2
    assert abs(mass - 1) < 1e-3  # the grid holds q's mass
    return marginal, closed_form_kl(mu, logvar) - marginal


def test_on_a_2d_model_the_split_matches_quadrature(quick_zoo: Path, test_set: ImageSet) -> None:
    mu, logvar = posteriors(quick_zoo, "full-2d", test_set.head(IMAGES))
    marginal, information = quadrature(mu, logvar)
    split = kl_split(mu, logvar)
    assert abs(split.marginal_kl - marginal) < 0.05 and abs(split.mutual_information - information) < 0.05
    assert 0.5 < information < split.bound == pytest.approx(math.log(IMAGES))


def test_the_two_parts_add_up_to_the_kl_term(quick_zoo: Path, test_set: ImageSet) -> None:
    mu, logvar = posteriors(quick_zoo, "full-16d", test_set.head(IMAGES))
    split = kl_split(mu, logvar, samples=32)  # 16-D: more draws, so that 0.05 is several standard errors
    assert abs(split.mutual_information + split.marginal_kl - closed_form_kl(mu, logvar)) < 0.05


def test_a_model_trained_on_the_kl_term_alone_carries_no_information(
    quick_zoo: Path, test_set: ImageSet
) -> None:
    split = kl_split(*posteriors(quick_zoo, "kl-2d", test_set.head(IMAGES)))
    assert abs(split.mutual_information) < 0.02 and abs(split.marginal_kl) < 0.05


def test_posteriors_as_narrow_as_reconstruction_alone_makes_them_still_add_up() -> None:
    """Trained without the KL term, MNIST's default 2-D model encodes digits with logvar down to -170: an
    expanded square (z - mu)^2 / sigma^2 would cancel into garbage there."""
    generator = torch.Generator().manual_seed(0)
    mu = 20 * torch.randn(500, 2, generator=generator)
    logvar = -20 - 150 * torch.rand(500, 2, generator=generator)
    split = kl_split(mu, logvar)
    kl = closed_form_kl(mu, logvar)
    assert split.mutual_information == pytest.approx(math.log(500), abs=1e-6)  # each draw is its image's
    assert abs(split.mutual_information + split.marginal_kl - kl) < 1e-3 * kl


def test_posteriors_far_apart_carry_all_of_log_n() -> None:
    mu = torch.arange(200, dtype=torch.float32)[:, None] * torch.tensor([[10.0, 0.0]])
    split = kl_split(mu, torch.full_like(mu, 2 * math.log(0.1)))
    assert split.mutual_information == pytest.approx(math.log(200), abs=1e-4)


def test_every_epoch_records_the_split_and_the_kl_per_dimension(tmp_path: Path, mnist: Dataset) -> None:
    folder = tmp_path / "tiny"
    train_tiny(folder, mnist, epochs=1)
    (record,) = json.loads((folder / "history.json").read_text())
    assert record["test_information_bound"] == pytest.approx(math.log(min(HEALTH_IMAGES, TINY_TEST)))
    assert len(record["test_kl_per_dim"]) == 2 and sum(record["test_kl_per_dim"]) == pytest.approx(
        record["test_kl"]
    )
    assert 0 <= record["test_mutual_information"] <= record["test_information_bound"]


def test_a_split_needs_two_posteriors_of_one_shape() -> None:
    with pytest.raises(
        ValueError, match=r"need mu and logvar \[N, D\] with N >= 2, got \[1, 2\] and \[1, 2\]"
    ):
        kl_split(torch.zeros(1, 2), torch.ones(1, 2))
