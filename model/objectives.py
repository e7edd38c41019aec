"""The AEVB objective and its parts, per example, in nats."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

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
    # FactorVAE's discriminator's own loss [B]: minimised beside `loss`, reaching only the discriminator
    discriminator_loss: torch.Tensor | None = None

    @property
    def elbo(self) -> torch.Tensor:
        return self.reconstruction - self.kl


def noise_shape(config: TrainConfig, latent_dim: int) -> tuple[int, ...]:
    """The noise one example needs: [D] for the reparametrisation, [k, D] for the IWAE objective's k draws,
    [2, D] for FactorVAE (its draw, and the keys that shuffle each dimension across the minibatch)."""
    if config.loss == "iwae":
        return (config.iwae_k, latent_dim)
    return (2, latent_dim) if config.loss == "factorvae" else (latent_dim,)


class TotalCorrelationDiscriminator(nn.Module):
    """FactorVAE's discriminator (Kim & Mnih, 2018, Appendix: 6 layers of 1000 units, leaky ReLU 0.2): z [B,
    D] -> two logits [B, 2], "drawn from q(z)" against "from the product of its marginals". At its optimum
    logit_0 - logit_1 = log q(z) / prod_d q(z_d), whose mean over q(z) is the total correlation."""

    def __init__(self, latent_dim: int, width: int = 1000, layers: int = 6) -> None:
        super().__init__()
        widths = [latent_dim, *[width] * (layers - 1)]
        blocks: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(widths):
            blocks += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*blocks, nn.Linear(widths[-1], 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net(z)
        return logits


def shuffled_dimensions(z: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """z [B, D] with each dimension permuted across the minibatch by the order of its keys [B, D]: draws
    from the product of the marginals of z's distribution (Kim & Mnih, 2018, Algorithm 2)."""
    return z.gather(0, keys.argsort(dim=0))


def discriminated_total_correlation(discriminator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """The discriminator's estimate of TC at each z [B, D]: logit_0 - logit_1, [B]. Its weights are read
    detached: the VAE's objective moves the encoder, never the discriminator."""
    frozen = {name: weight.detach() for name, weight in discriminator.named_parameters()}
    logits: torch.Tensor = functional_call(discriminator, frozen, (z,))
    return logits[:, 0] - logits[:, 1]


def discriminator_loss(discriminator: nn.Module, z: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """The discriminator's cross-entropy [B] on the minibatch's z (class 0) and its dimensions shuffled
    (class 1), on z detached: it trains the discriminator only (disentanglement_lib's factor_vae, which
    shuffles the same minibatch)."""
    z = z.detach()
    joint = torch.log_softmax(discriminator(z), dim=1)[:, 0]
    product = torch.log_softmax(discriminator(shuffled_dimensions(z, keys)), dim=1)[:, 1]
    return -(joint + product) / 2


def objective(
    network: LatentModel,
    x: torch.Tensor,
    config: TrainConfig,
    generator: torch.Generator | None = None,
    *,
    eps: torch.Tensor | None = None,
    discriminator: nn.Module | None = None,
) -> ObjectiveParts:
    """Evaluate the training objective of `config.loss` on x: [B, C*H*W], with the noise eps: [B,
    *noise_shape] when given (drawn from `generator` otherwise).

    full: -ELBO. beta: -(recon - beta * KL). recon: -recon, a plain autoencoder with noise.
    kl: KL only for the encoder; the decoder still learns to decode z, but on a detached z, so no
    reconstruction gradient reaches the encoder and the latent map is shaped by the KL term alone.
    iwae: minus the importance-weighted bound with k = config.iwae_k samples (Burda et al., 2016, Eq. 8).
    tcvae: -ELBO + (beta - 1) TC, the total correlation estimated on the minibatch (Chen et al., 2018:
    the KL term's index-code information, total correlation and dimension-wise KL weighted 1, beta, 1).
    factorvae: -ELBO + (beta - 1) TC, TC estimated by `discriminator` (Kim & Mnih, 2018, Eq. 2, their
    gamma = beta - 1), which is trained beside by its own `discriminator_loss`.
    """
    posterior = network.encode(x)
    if config.loss == "factorvae":
        if discriminator is None:
            raise ValueError("the factorvae objective needs its discriminator")
        if eps is None:
            eps = torch.randn((x.shape[0], 2, network.latent_dim), generator=generator, device=x.device)
        z = posterior.reparametrise(eps[:, 0])
        reconstruction, kl = network.log_likelihood(z, x), posterior.kl()
        tc = discriminated_total_correlation(discriminator, z)
        return ObjectiveParts(
            loss=kl - reconstruction + (config.beta - 1) * tc,
            reconstruction=reconstruction,
            kl=kl,
            posterior=posterior,
            discriminator_loss=discriminator_loss(discriminator, z, eps[:, 1]),
        )
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
