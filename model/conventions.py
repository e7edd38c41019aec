"""What the VAE libraries people use give, read as the atlas's protocol, so their models load as they are.

pythae (benchmark_VAE): a model has no encode or decode method; its `encoder` module returns a ModelOutput
(a dict) with `embedding` and `log_covariance` (the log-variance), its `decoder` one with `reconstruction`
(the decoder's means, ending in a sigmoid), and its config's `reconstruction_loss` says the likelihood:
"bce" is a Bernoulli of those means, "mse" the Gaussian with sigma = 1 that 0.5 ||x - x_hat||^2 is the
negative log of (up to its constant).

diffusers (AutoencoderKL) has encode and decode; what they return is read by model/outside.py (the encoder
output's `latent_dist`, the decoder's DecoderOutput `.sample`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

# The likelihood each of pythae's reconstruction losses is the negative log of.
PYTHAE_LIKELIHOODS: dict[str, dict[str, Any]] = {
    "bce": {"likelihood": "bernoulli", "decodes": "means"},
    "mse": {"likelihood": "gaussian", "likelihood_scale": 1.0},
}


def _pythae_loss(network: nn.Module) -> str | None:
    """pythae's reconstruction loss when `network` is a pythae model (its config names one), else None."""
    loss = getattr(getattr(network, "model_config", None), "reconstruction_loss", None)
    if loss in PYTHAE_LIKELIHOODS and isinstance(getattr(network, "encoder", None), nn.Module):
        return str(loss)
    return None


def library_declarations(network: nn.Module) -> dict[str, Any]:
    """What a model of a known library declares by being one (below what the user declares)."""
    loss = _pythae_loss(network)
    return dict(PYTHAE_LIKELIHOODS[loss]) if loss is not None else {}


def library_method(network: nn.Module, name: str) -> Callable[[Any], Any] | None:
    """pythae's encoder or decoder module in place of an encode or decode method, else None."""
    if _pythae_loss(network) is None:
        return None
    module = getattr(network, {"encode": "encoder", "decode": "decoder"}[name], None)
    return module if isinstance(module, nn.Module) else None
