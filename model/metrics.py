"""Test-set metrics of a VAE, computed after every training epoch and by the evaluation: the ELBO and its
parts, KL per dimension, active units, and the importance-weighted bound on log p(x)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch

from model.likelihoods import Likelihood
from model.objectives import log_importance_weight
from model.vae import LatentModel


@contextmanager
def evaluating(network: LatentModel) -> Iterator[LatentModel]:
    """Eval mode for the duration, then back to whatever mode the network was in."""
    was_training = network.training
    network.eval()
    try:
        yield network
    finally:
        network.train(was_training)


BatchHook = Callable[[int], None]  # told the images done after each batch; raising stops the computation
IWAE_CHUNK = 100  # importance samples decoded at a time: 100 x 100 MNIST digits' logits are 31 MB
ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active if Cov_x(E_q[z_d]) > 0.01


@dataclass(frozen=True)
class ElboMetrics:
    """Means over the evaluated images, in nats per image; neg_elbo = reconstruction_nll + kl."""

    neg_elbo: float
    neg_elbo_se: float | None  # its standard error: std of the per-image ELBO / sqrt(N) (None below 2 images)
    reconstruction_nll: float
    kl: float
    kl_per_dim: list[float]
    active_units: int
    samples: int  # z draws per image behind the reconstruction estimate

    def as_dict(self) -> dict[str, float | int | list[float]]:
        return asdict(self)


@torch.inference_mode()
def elbo_metrics(
    network: LatentModel,
    x: torch.Tensor,
    *,
    samples: int = 1,
    seed: int = 0,
    batch_size: int = 2000,
    on_batch: BatchHook | None = None,
) -> ElboMetrics:
    """Estimate the ELBO on x: [N, C*H*W] with `samples` reparametrised draws per image (seeded, so the
    same model and data always give the same numbers)."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    generator = torch.Generator(device=x.device).manual_seed(seed)
    reconstructions, kls, mus = [], [], []
    kl_per_dim = torch.zeros(network.latent_dim, dtype=torch.float64)
    with evaluating(network):
        for batch in x.split(batch_size):
            posterior = network.encode(batch)
            reconstruction = torch.zeros(len(batch), dtype=torch.float64)
            for _ in range(samples):
                z = posterior.sample(generator)
                reconstruction += network.log_likelihood(z, batch).double().cpu()
            reconstructions.append(reconstruction / samples)
            kls.append(posterior.kl().double().cpu())
            kl_per_dim += posterior.kl_per_dim().sum(dim=0).double().cpu()
            mus.append(posterior.mu.cpu())
            if on_batch is not None:
                on_batch(min(len(mus) * batch_size, len(x)))
    n = x.shape[0]
    per_image = torch.cat(reconstructions) - torch.cat(kls)
    reconstruction_nll = -float(torch.cat(reconstructions).mean())
    kl_dims = (kl_per_dim / n).tolist()
    kl = sum(kl_dims)
    mu = torch.cat(mus)
    active = int((mu.var(dim=0, correction=0) > ACTIVE_UNIT_THRESHOLD).sum()) if n > 1 else 0
    return ElboMetrics(
        neg_elbo=reconstruction_nll + kl,
        neg_elbo_se=standard_error(per_image),
        reconstruction_nll=reconstruction_nll,
        kl=kl,
        kl_per_dim=kl_dims,
        active_units=active,
        samples=samples,
    )


@torch.inference_mode()
def mean_image_baseline(train: torch.Tensor, test: torch.Tensor, likelihood: Likelihood) -> float:
    """Reconstruction NLL of a decoder that ignores z, its parameters fitted to the training images (for a
    Bernoulli, the training mean image): what a model whose latent code carries no information can at
    best reach."""
    return float(-likelihood.log_prob(likelihood.constant_fit(train), test).mean())


def standard_error(values: torch.Tensor) -> float | None:
    """The standard error of the mean of per-image values [N]: their standard deviation / sqrt(N); None for
    fewer than two."""
    if len(values) < 2:
        return None
    return float(values.double().std() / math.sqrt(len(values)))


def importance_weighted_log_likelihood(
    network: LatentModel,
    x: torch.Tensor,
    *,
    k: int = 500,
    seed: int = 0,
    batch_size: int = 100,
    chunk_size: int = IWAE_CHUNK,
) -> float:
    """Mean over x: [N, C*H*W] of the k-sample importance-weighted bound (Burda et al., 2016),
    log p(x) >= E[log (1/k) sum_i p(x, z_i) / q(z_i|x)], z_i ~ q(z|x). It equals the ELBO at k = 1 and
    rises with k towards log p(x); it is itself a lower bound, so its excess over the ELBO is only part of
    the gap KL(q(z|x) || p(z|x)) (tutorial Eq. 10)."""
    per_image = importance_weighted_log_likelihoods(
        network, x, k=k, seed=seed, batch_size=batch_size, chunk_size=chunk_size
    )
    return float(per_image.mean())


@torch.inference_mode()
def importance_weighted_log_likelihoods(
    network: LatentModel,
    x: torch.Tensor,
    *,
    k: int = 500,
    seed: int = 0,
    batch_size: int = 100,
    chunk_size: int = IWAE_CHUNK,
    on_batch: BatchHook | None = None,
) -> torch.Tensor:
    """The k-sample importance-weighted bound of each image of x: [N, C*H*W] -> [N] float64 (see
    importance_weighted_log_likelihood)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    generator = torch.Generator(device=x.device).manual_seed(seed)
    bounds = []
    with evaluating(network):
        for batch in x.split(batch_size):
            posterior = network.encode(batch)
            eps = torch.randn((k, *posterior.mu.shape), generator=generator, device=x.device)
            # Decoded in chunks of samples, their log-sum-exp carried along: at the paper's k = 5000 all at
            # once would hold 5000 x 100 decoded images (1.5 GB of logits for MNIST). The noise is drawn
            # whole, so the chunk size never changes the estimate.
            log_sum = torch.full((len(batch),), -math.inf, device=x.device)
            for chunk in eps.split(chunk_size):
                log_w = log_importance_weight(
                    network, batch, posterior.reparametrise(chunk), posterior.log_prob_of_noise(chunk)
                )
                log_sum = torch.logaddexp(log_sum, torch.logsumexp(log_w, dim=0))
            bounds.append((log_sum - math.log(k)).double().cpu())
            if on_batch is not None:
                on_batch(min(len(bounds) * batch_size, len(x)))
    return torch.cat(bounds)
