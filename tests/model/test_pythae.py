"""A pythae model loads as it is: its encoder's embedding and log_covariance, its decoder's reconstruction,
and the likelihood its config's reconstruction loss implies, with no declaration beyond the data set."""

import math
from pathlib import Path

import pytest
import torch
from pythae.models import VAE, VAEConfig

from model.data import Dataset
from model.inference import LoadedModel, Origin
from model.outside import wrap


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_a_pythae_vae_is_scored_as_its_own_loss_scores_it(loss: str, mnist: Dataset) -> None:
    """Its -ELBO at the same z equals pythae's own loss_function: exactly for "bce", and up to the Gaussian's
    constant (784/2) log(2 pi) for "mse", whose 0.5 ||x - x_hat||^2 is -log N(x; x_hat, 1) less it."""
    torch.manual_seed(0)
    model = VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=4, reconstruction_loss=loss)).eval()
    wrapped = wrap(model, dataset="mnist")
    assert (wrapped.declared.likelihood, wrapped.declared.likelihood_scale) == (
        ("bernoulli", None) if loss == "bce" else ("gaussian", 1.0)
    )
    network = LoadedModel.outside(
        "pythae", wrapped, mnist.info, mnist.test, origin=Origin("notebook", "VAE"), folder=Path("unused")
    ).network
    x = mnist.test.head(16).pixels()
    with torch.no_grad():
        encoded = model.encoder(x.reshape(16, 1, 28, 28))
        mu, log_var = encoded.embedding, encoded.log_covariance
        z = mu + (0.5 * log_var).exp() * torch.randn(mu.shape, generator=torch.Generator().manual_seed(1))
        recon_x = model.decoder(z).reconstruction
        theirs, _, _ = model.loss_function(recon_x, x.reshape(16, 1, 28, 28), mu, log_var, z)
        posterior = network.encode(x)
        ours = (posterior.kl() - network.log_likelihood(z, x)).mean()
    constant = 0.0 if loss == "bce" else 784 / 2 * math.log(2 * math.pi)
    assert float(ours) == pytest.approx(float(theirs) + constant, rel=1e-5)


def test_what_the_user_declares_wins_over_what_pythae_implies() -> None:
    model = VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=4, reconstruction_loss="mse"))
    declared = wrap(model, dataset="mnist", likelihood="gaussian", likelihood_scale=0.1).declared
    assert declared.likelihood_scale == 0.1
