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
ROWS = 1000  # draws evaluated against every posterior at a time: ROWS x N densities


@dataclass(frozen=True)
class KlSplit:
    """The KL term split, in nats: I(x; z) under q, KL(q(z) || p(z)), and the bound log N on the first."""

    mutual_information: float
    marginal_kl: float
    bound: float


@torch.inference_mode()
def kl_split(
    mu: torch.Tensor, sigma: torch.Tensor, *, samples: int = HEALTH_SAMPLES, seed: int = 0
) -> KlSplit:
    """The split of the KL term of N images' posteriors q(z|x_n) = N(mu, sigma^2), mu and sigma [N, D]."""
    if mu.ndim != 2 or mu.shape != sigma.shape or len(mu) < 2:
        raise ValueError(
            f"need mu and sigma [N, D] with N >= 2, got {list(mu.shape)} and {list(sigma.shape)}"
        )
    n = len(mu)
    generator = torch.Generator(device=mu.device).manual_seed(seed)
    mu, sigma = mu.double(), sigma.double()  # the expanded square below cancels large terms
    precision = sigma.pow(-2)  # [N, D]
    # log q(z | x_m) = -(sum_d (z_d - mu_md)^2 / sigma_md^2 + log det + D log 2 pi) / 2, the square expanded
    # so that every draw meets every posterior in two matrix products, not an [R, N, D] tensor.
    constant = (
        (mu.pow(2) * precision).sum(dim=1) + 2 * sigma.log().sum(dim=1) + mu.shape[1] * math.log(2 * math.pi)
    )
    information = marginal = 0.0
    for _ in range(samples):
        z = mu + sigma * torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        for start in range(0, n, ROWS):
            rows = z[start : start + ROWS]  # [R, D]
            distance = rows.pow(2) @ precision.T - 2 * rows @ (mu * precision).T  # [R, N], less mu's term
            # log q(z_r | x_m), its large terms cancelled: single precision suffices for the exponentials
            log_q = (-0.5 * (distance + constant[None])).float()
            log_aggregate = torch.logsumexp(log_q, dim=1) - math.log(n)  # log q(z_r)
            own = log_q[torch.arange(len(rows)), torch.arange(start, start + len(rows))]  # log q(z_r | x_r)
            information += float((own - log_aggregate).double().sum())
            marginal += float((log_aggregate.double() - prior_log_prob(rows)).sum())
    draws = n * samples
    return KlSplit(information / draws, marginal / draws, math.log(n))


@torch.inference_mode()
def health_of(network: LatentModel, x: torch.Tensor) -> KlSplit:
    """The KL term's split for images x [N, C*H*W] under the network's encoder (in eval mode)."""
    posterior = network.encode(x)
    return kl_split(posterior.mu.float(), posterior.sigma.float())
