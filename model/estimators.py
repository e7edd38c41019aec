"""Two Monte Carlo estimators of the ELBO's gradient with respect to the variational parameters, and their
variances: the score function (REINFORCE, tutorial Eq. 20) and the reparametrization trick (Eq. 22-27).

Both estimators differentiate with respect to phi = (mu, logvar) of q(z|x) for each image. The gradient
with respect to the encoder's weights follows by the chain rule, sum_b J_b^T g_b with J_b = d(mu_b,
logvar_b)/d(weights): J is deterministic, so applying it to each S-sample estimate of g gives an S-sample
estimate of the weights' gradient, whose variance is reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from model.metrics import evaluating
from model.objectives import log_importance_weight
from model.vae import DiagonalGaussian, LatentModel

MAX_SAMPLES = 1000
CHUNK = 4096  # draws evaluated at once, to bound memory whatever S and the repetitions are


@dataclass(frozen=True)
class EstimatorStats:
    """For one sample count S: the mean of R independent S-sample estimates and their variance per
    gradient component, averaged over components."""

    samples: int
    mean: torch.Tensor  # [B, 2D]: gradient w.r.t. (mu, logvar) of each image
    variance: float  # per-component average
    standard_error: torch.Tensor  # [B, 2D]: of the mean over the R estimates
    encoder_mean: torch.Tensor  # [P]: gradient w.r.t. the encoder's P weights
    encoder_variance: float  # per-weight average


def _draws(
    network: LatentModel, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Single-draw gradient estimates for the draws eps [N, B, D] -> {"reparam", "score"}: [N, B, 2D].

    log q and its score are written in eps (z - mu = sigma * eps), which keeps them finite for models
    whose sigma^2 underflows; as functions of (mu, logvar) they are the same."""
    n = eps.shape[0]
    # One leaf copy of (mu, logvar) per draw, so autograd returns each draw's own gradient.
    mu_n = mu.detach().expand(n, *mu.shape).clone().requires_grad_(True)
    logvar_n = logvar.detach().expand(n, *logvar.shape).clone().requires_grad_(True)
    posterior = DiagonalGaussian(mu_n, logvar_n)
    z = mu_n + posterior.sigma * eps  # the reparametrization z = mu + sigma * eps
    f = log_importance_weight(network, x, z, posterior.log_prob_of_noise(eps))
    grad_mu, grad_logvar = torch.autograd.grad(f.sum(), (mu_n, logvar_n))
    reparam = torch.cat([grad_mu, grad_logvar], dim=-1)
    with torch.no_grad():
        # Score function: f(z) * grad log q(z|x) at a z that is held fixed (no path derivative):
        # d/dmu log q = (z - mu) / sigma^2 = eps / sigma, d/dlogvar log q = ((z - mu)^2 / sigma^2 - 1) / 2.
        fixed = DiagonalGaussian(mu_n.detach(), logvar_n.detach())
        score_mu = eps / fixed.sigma
        score_logvar = 0.5 * (eps.pow(2) - 1.0)
        f_fixed = log_importance_weight(network, x, z.detach(), fixed.log_prob_of_noise(eps))
        score = f_fixed.unsqueeze(-1) * torch.cat([score_mu, score_logvar], dim=-1)
    return {"reparam": reparam.detach(), "score": score}


def _encoder_gradients(
    network: LatentModel, x: torch.Tensor, estimates: torch.Tensor, parameters: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Map R estimates of grad_(mu, logvar) ELBO [R, B, 2D] to the encoder's weights: [R, P], one
    vector-Jacobian product each."""
    for parameter in parameters:
        parameter.requires_grad_(True)
    try:
        with torch.enable_grad():
            posterior = network.encode(x)
            outputs = torch.cat([posterior.mu, posterior.logvar], dim=-1)
            rows = []
            for estimate in estimates:
                grads = torch.autograd.grad((outputs * estimate).sum(), parameters, retain_graph=True)
                rows.append(torch.cat([g.flatten() for g in grads]))
        return torch.stack(rows)
    finally:
        for parameter in parameters:
            parameter.requires_grad_(False)


def compare_estimators(
    network: LatentModel,
    x: torch.Tensor,
    sample_counts: Sequence[int] = (1, 10, 100, 1000),
    repetitions: int = 20,
    seed: int = 0,
) -> dict[str, list[EstimatorStats]]:
    """For images x: [B, C*H*W] and each S in `sample_counts`, draw `repetitions` independent S-sample
    estimates of grad_(mu, logvar) ELBO, and of the gradient w.r.t. the encoder's weights, with each
    estimator -> {"reparam": [...], "score": [...]}."""
    if not sample_counts or any(not 1 <= s <= MAX_SAMPLES for s in sample_counts):
        raise ValueError(f"sample counts must be between 1 and {MAX_SAMPLES}, got {list(sample_counts)}")
    if repetitions < 2:
        raise ValueError(f"repetitions must be >= 2 to measure a variance, got {repetitions}")
    encoder_parameters = network.encoder_parameters()
    for parameter in network.parameters():
        parameter.requires_grad_(False)  # the draws differentiate (mu, logvar) only
    try:
        with evaluating(network):
            with torch.no_grad():
                posterior = network.encode(x)
            generator = torch.Generator(device=x.device).manual_seed(seed)
            result: dict[str, list[EstimatorStats]] = {"reparam": [], "score": []}
            for s in sample_counts:
                total = s * repetitions
                parts: dict[str, list[torch.Tensor]] = {"reparam": [], "score": []}
                for start in range(0, total, CHUNK):
                    n = min(CHUNK, total - start)
                    eps = torch.randn((n, *posterior.mu.shape), generator=generator, device=x.device)
                    for name, draws in _draws(network, x, posterior.mu, posterior.logvar, eps).items():
                        parts[name].append(draws)
                for name, chunks in parts.items():
                    # R estimates, each the mean of S single-draw estimates: [R, B, 2D].
                    estimates = torch.cat(chunks).reshape(repetitions, s, *chunks[0].shape[1:]).mean(dim=1)
                    variance = estimates.var(dim=0)
                    encoder = _encoder_gradients(network, x, estimates, encoder_parameters)
                    result[name].append(
                        EstimatorStats(
                            samples=s,
                            mean=estimates.mean(dim=0),
                            variance=float(variance.mean()),
                            standard_error=(variance / repetitions).sqrt(),
                            encoder_mean=encoder.mean(dim=0),
                            encoder_variance=float(encoder.var(dim=0).mean()),
                        )
                    )
            return result
    finally:
        for parameter in network.parameters():
            parameter.requires_grad_(True)
