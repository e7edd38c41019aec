"""diffusers' AutoencoderKL (the Stable Diffusion VAE's class) served as it is: its encoder's latent_dist, its
decoder's DecoderOutput, its spatial latents and its [-1, 1] images, with declarations only."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

from model.data import Dataset
from model.inference import LoadedModel, Origin
from model.metrics import elbo_metrics
from model.outside import wrap
from model.traversal import dimension_name
from tests.conftest import EXAMPLES

if TYPE_CHECKING:  # imported by the example when a test runs: diffusers takes seconds to import
    from diffusers import AutoencoderKL


def _autoencoder_kl() -> AutoencoderKL:
    """examples/autoencoder_kl.py's model, seeded: three blocks, 28 -> 14 -> 7, latents of 4 x 7 x 7."""
    spec = importlib.util.spec_from_file_location("autoencoder_kl_example", EXAMPLES / "autoencoder_kl.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    torch.manual_seed(0)
    model: AutoencoderKL = example.MODEL().eval()
    return model


@pytest.fixture(scope="module")
def served(mnist: Dataset) -> LoadedModel:
    wrapped = wrap(_autoencoder_kl(), dataset="mnist", likelihood="gaussian", value_range=(-1, 1))
    return LoadedModel.outside(
        "sd-vae",
        wrapped,
        mnist.info,
        mnist.test,
        fit_images=mnist.train.head(200),
        origin=Origin("notebook", "AutoencoderKL"),
        folder=Path("unused"),
    )


def test_its_spatial_latents_are_flattened_and_given_back_in_their_shape(
    served: LoadedModel, mnist: Dataset
) -> None:
    vae, x = _autoencoder_kl(), mnist.test.head(4).pixels()
    assert served.latent_dim == 196 and served.network.latent_shape == (4, 7, 7)
    with torch.no_grad():
        expected = vae.encode(2 * x.reshape(4, 1, 28, 28) - 1).latent_dist
        mu, sigma = served.encode(x)
        assert torch.allclose(mu, expected.mean.flatten(1), atol=1e-5)
        assert torch.allclose(sigma, expected.std.flatten(1), atol=1e-5)
        images = (vae.decode(expected.mean).sample + 1) / 2  # its [-1, 1] back to intensities
    assert torch.allclose(served.decode(mu), images.clamp(0, 1), atol=1e-5)


def test_its_figures_are_scored_on_intensities_and_its_dimensions_named_by_position(
    served: LoadedModel, mnist: Dataset
) -> None:
    metrics = elbo_metrics(served.network, mnist.test.head(32).pixels(), samples=2)
    assert torch.isfinite(torch.tensor(metrics.neg_elbo)) and len(metrics.kl_per_dim) == 196
    assert served.network.likelihood_label.startswith("Gaussian, sigma = ")
    assert served.network.likelihood_label.endswith("fitted on 200 training images")
    assert dimension_name(60, served.network.latent_shape) == "channel 1 at (1, 4)"  # 60 = 1 * 49 + 1 * 7 + 4
    assert dimension_name(60, (196,)) == "z61"
