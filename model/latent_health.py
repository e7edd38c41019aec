"""How much of the KL term is information about x: the average KL(q(z|x) || p(z)) over N images split into
the mutual information I(x; z) under q and the marginal KL(q(z) || p(z)), where q(z) = (1/N) sum_n q(z|x_n)
is the aggregate posterior (Hoffman & Johnson, 2016, "ELBO surgery", Eq. 2):

    E_n KL(q(z|x_n) || p(z)) = I(x; z) + KL(q(z) || p(z)).

The estimator draws S latents z ~ q(z|x_n) for every image and evaluates every image's posterior at every
draw, so log q(z) = logsumexp_m log q(z|x_m) - log N is exact for the N-image mixture (no minibatch
estimate of q(z)). Averaged over the draws:

    I(x; z)          ~ log q(z|x_n) - log q(z)     (at most log N: q(z) >= q(z|x_n) / N)
    KL(q(z) || p(z)) ~ log q(z) - log p(z)

Their sum estimates the KL term, which is also known in closed form; the difference is Monte Carlo error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from model.vae import LatentModel, prior_log_prob

HEALTH_IMAGES = 1000  # test images whose aggregate posterior is measured: I(x; z) <= log 1000 = 6.9 nats
HEALTH_SAMPLES = 8  # draws per image: ~0.01 nats of standard error on a 2-D model's 1,000 test images
ROWS = 256  # draws evaluated against every posterior at a time
# Expanding the square turns each draw's distances to every posterior into two matrix products (fast); in
# double precision its rounding stays below 1e-3 while sum_d (|z_d| + |mu_md|)^2 / sigma_md^2 stays below
# this. A model trained without the KL term has posteriors narrow enough (sigma ~ 1e-10) to pass it: its
# distances are taken by differences instead.
EXPANDED_SCALE = 1e12
# Posteriors narrower than this (sigma = e^-300) are measured as that wide, so that 1 / sigma^2 stays finite
# in double precision. A model trained without the KL term reaches logvar = -170 on MNIST digits.
MIN_LOGVAR = -600.0


@dataclass(frozen=True)
class KlSplit:
    """The KL term split, in nats: I(x; z) under q, KL(q(z) || p(z)), and the bound log N on the first."""

    mutual_information: float
    marginal_kl: float
    bound: float


def squared_distances(
    z: torch.Tensor, mu: torch.Tensor, precision: torch.Tensor, expanded: bool
) -> torch.Tensor:
    """sum_d (z_rd - mu_md)^2 * precision_md for draws z [R, D] and posteriors [N, D]: [R, N]."""
    if expanded:
        return z.pow(2) @ precision.T - 2 * z @ (mu * precision).T + (mu.pow(2) * precision).sum(dim=1)[None]
    return ((z[:, None, :] - mu[None]).pow(2) * precision[None]).sum(dim=2)


@torch.inference_mode()
def kl_split(
    mu: torch.Tensor, logvar: torch.Tensor, *, samples: int = HEALTH_SAMPLES, seed: int = 0
) -> KlSplit:
    """The split of the KL term of N images' posteriors q(z|x_n) = N(mu, exp(logvar)), mu and logvar
    [N, D] (in double precision)."""
    if mu.ndim != 2 or mu.shape != logvar.shape or len(mu) < 2:
        raise ValueError(
            f"need mu and logvar [N, D] with N >= 2, got {list(mu.shape)} and {list(logvar.shape)}"
        )
    n, d = mu.shape
    generator = torch.Generator(device=mu.device).manual_seed(seed)
    mu, logvar = mu.double(), logvar.double().clamp(min=MIN_LOGVAR)
    sigma, precision = torch.exp(0.5 * logvar), torch.exp(-logvar)  # [N, D]
    constant = logvar.sum(dim=1) + d * math.log(2 * math.pi)  # [N]: of each posterior's log density
    reach = mu.abs() + 6 * sigma.max(dim=0).values  # bounds |z_d| for every draw but 1 in 1e9
    expanded = (
        float((precision * (reach.max(dim=0).values + mu.abs()).pow(2)).sum(dim=1).max()) < EXPANDED_SCALE
    )
    information = marginal = 0.0
    for _ in range(samples):
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + sigma * eps
        own = -0.5 * (eps.pow(2).sum(dim=1) + constant)  # log q(z_n | x_n), exact however narrow q is
        for start in range(0, n, ROWS):
            rows = z[start : start + ROWS]  # [R, D]
            distances = squared_distances(rows, mu, precision, expanded)
            log_q = -0.5 * (distances + constant[None])  # log q(z_r | x_m)
            # Each draw's own posterior at its exact value: a draw within rounding of its mean (sigma below
            # 1e-15 |mu|) would otherwise be scored at the peak. Then log q(z_r) >= own - log N: I <= log N.
            diagonal = (torch.arange(len(rows)), torch.arange(start, start + len(rows)))
            log_q[diagonal] = own[start : start + ROWS]
            log_aggregate = torch.logsumexp(log_q, dim=1) - math.log(n)
            information += float((own[start : start + ROWS] - log_aggregate).sum())
            marginal += float((log_aggregate - prior_log_prob(rows)).sum())
    draws = n * samples
    return KlSplit(information / draws, marginal / draws, math.log(n))


@torch.inference_mode()
def health_of(network: LatentModel, x: torch.Tensor) -> KlSplit:
    """The KL term's split for images x [N, C*H*W] under the network's encoder (in eval mode)."""
    posterior = network.encode(x)
    return kl_split(posterior.mu, posterior.logvar)
