"""The AEVB objective and its parts, per example, in nats."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from model.config import TrainConfig
from model.vae import DiagonalGaussian, LatentModel, prior_log_prob


def log_importance_weight(
    network: LatentModel, x: torch.Tensor, z: torch.Tensor, log_q: torch.Tensor
) -> torch.Tensor:
    """log w = log p(x|z) + log p(z) - log q(z|x), the log of one importance weight p(x, z) / q(z|x):
    x [B, C*H*W], z [S, B, D], log_q [S, B] -> [S, B]. Its mean over z ~ q is the ELBO (Eq. 30); the log of
    its mean is the importance-weighted bound (Burda et al., 2016)."""
    return _log_weight_and_reconstruction(network, x, z, log_q)[0]


def _log_weight_and_reconstruction(
    network: LatentModel, x: torch.Tensor, z: torch.Tensor, log_q: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """log w and its log p(x|z) term, [S, B] each: the IWAE objective reports the term beside the bound."""
    reconstruction = network.log_likelihood(z, x)
    return reconstruction + prior_log_prob(z) - log_q, reconstruction


@dataclass(frozen=True)
class ObjectiveParts:
    """Per-example terms [B]: the ELBO = reconstruction - kl (tutorial Eq. 30); loss is what is minimised."""

    loss: torch.Tensor
    reconstruction: torch.Tensor  # E_q[log p(x|z)], one-sample estimate
    kl: torch.Tensor  # KL(q(z|x) || p(z)), analytic
    posterior: DiagonalGaussian

    @property
    def elbo(self) -> torch.Tensor:
        return self.reconstruction - self.kl


def noise_shape(config: TrainConfig, latent_dim: int) -> tuple[int, ...]:
    """The reparametrisation noise one example needs: [D], or [k, D] for the IWAE objective."""
    return (config.iwae_k, latent_dim) if config.loss == "iwae" else (latent_dim,)


def objective(
    network: LatentModel,
    x: torch.Tensor,
    config: TrainConfig,
    generator: torch.Generator | None = None,
    *,
    eps: torch.Tensor | None = None,
) -> ObjectiveParts:
    """Evaluate the training objective of `config.loss` on x: [B, C*H*W], with the reparametrisation's noise
    eps: [B, *noise_shape] when given (drawn from `generator` otherwise).

    full: -ELBO. beta: -(recon - beta * KL). recon: -recon, a plain autoencoder with noise.
    kl: KL only for the encoder; the decoder still learns to decode z, but on a detached z, so no
    reconstruction gradient reaches the encoder and the latent map is shaped by the KL term alone.
    iwae: minus the importance-weighted bound with k = config.iwae_k samples (Burda et al., 2016, Eq. 8).
    tcvae: -ELBO + (beta - 1) TC, the total correlation estimated on the minibatch (Chen et al., 2018:
    the KL term's index-code information, total correlation and dimension-wise KL weighted 1, beta, 1).
    """
    posterior = network.encode(x)
    if config.loss == "iwae":
        if eps is None:
            shape = (x.shape[0], *noise_shape(config, network.latent_dim))
            eps = torch.randn(shape, generator=generator, device=x.device, dtype=posterior.mu.dtype)
        return _importance_weighted(network, x, posterior, eps)
    z = posterior.sample(generator) if eps is None else posterior.reparametrise(eps)
    if config.loss == "kl":
        z = z.detach()
    reconstruction = network.log_likelihood(z, x)
    kl = posterior.kl()
    loss = config.kl_weight * kl - reconstruction
    if config.loss == "tcvae":
        loss = loss + (config.beta - 1) * total_correlation(z, posterior)
    return ObjectiveParts(loss=loss, reconstruction=reconstruction, kl=kl, posterior=posterior)


def total_correlation(z: torch.Tensor, posterior: DiagonalGaussian) -> torch.Tensor:
    """TC = KL(q(z) || prod_d q(z_d)) at each draw z_i ~ q(z|x_i), z [B, D], estimated on the minibatch
    (Chen et al., 2018, Sec. 4.1): q(z_i) ~ (1/B) sum_j q(z_i|x_j), each marginal q(z_id) likewise, so
    TC_i ~ log q(z_i) - sum_d log q(z_id): [B]. Averaged over draws it estimates the aggregate posterior's
    total correlation; its gradient needs no knowledge of the data set's size."""
    batch = z.shape[0]
    log_q = DiagonalGaussian(posterior.mu[None], posterior.logvar[None]).log_prob_per_dim(
        z[:, None]
    )  # [B, B, D]
    joint = torch.logsumexp(log_q.sum(dim=2), dim=1) - math.log(batch)
    marginals = (torch.logsumexp(log_q, dim=1) - math.log(batch)).sum(dim=1)
    return joint - marginals


def _importance_weighted(
    network: LatentModel, x: torch.Tensor, posterior: DiagonalGaussian, eps: torch.Tensor
) -> ObjectiveParts:
    """The IWAE objective for eps: [B, k, D]: loss = -(log (1/k) sum_i w_i), w_i = p(x, z_i) / q(z_i|x). Its
    gradient weights each sample by its normalised importance weight; at k = 1 it is the ELBO with the KL
    term estimated from the one z (equal to the ELBO in expectation)."""
    eps = eps.transpose(0, 1)  # [k, B, D]: samples first, as the importance weights are taken
    log_w, reconstruction = _log_weight_and_reconstruction(
        network, x, posterior.reparametrise(eps), posterior.log_prob_of_noise(eps)
    )
    bound = torch.logsumexp(log_w, dim=0) - math.log(eps.shape[0])
    return ObjectiveParts(
        loss=-bound, reconstruction=reconstruction.mean(dim=0), kl=posterior.kl(), posterior=posterior
    )
