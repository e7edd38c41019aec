"""The network's two families, MLP and convolutional: shapes for every image size and channel count, the
layouts it accepts, a checkpoint round trip, and that a small conv model learns MNIST."""

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_network
from model.config import DEFAULT_HIDDEN, ModelConfig, TrainConfig, model_config_from_dict
from model.data import Dataset, ImageSet
from model.estimators import compare_estimators
from model.likelihoods import LIKELIHOODS
from model.metrics import elbo_metrics
from model.objectives import objective
from model.train import train
from model.vae import VAE

SHAPES = [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32), (1, 64, 64), (3, 64, 64), (3, 28, 40)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("architecture", ["conv", "mlp"])
def test_every_size_and_channel_count_round_trips_its_shape(
    architecture: str, shape: tuple[int, int, int]
) -> None:
    hidden = (8, 16, 16) if architecture == "conv" and shape[1] == 64 else (8, 16)
    network = VAE(ModelConfig(latent_dim=3, architecture=architecture, hidden=hidden, image_shape=shape))  # type: ignore[arg-type]
    pixels = shape[0] * shape[1] * shape[2]
    x = torch.rand(5, *shape)
    posterior = network.encode(x)
    assert posterior.mu.shape == posterior.logvar.shape == (5, 3)
    assert torch.allclose(network.encode(x.reshape(5, -1)).mu, posterior.mu)  # flattened pixels too
    assert network.decode(posterior.mu).shape == (5, pixels)
    assert network.decode(torch.randn(7, 5, 3)).shape == (7, 5, pixels)  # IWAE's [S, B, D]
    with torch.no_grad():
        z, means = network.sample(4, torch.Generator().manual_seed(0))
    assert z.shape == (4, 3) and means.shape == (4, pixels) and 0 <= float(means.min()) <= 1


@pytest.mark.parametrize("likelihood", LIKELIHOODS)
@pytest.mark.parametrize("architecture", ["conv", "mlp"])
def test_the_decoder_gives_each_likelihoods_parameters_and_training_steps_lower_its_loss(
    architecture: str, likelihood: str
) -> None:
    """Mean and log-scale likelihoods get two outputs per value, the means first; a few Adam steps on a batch
    of colour images raise its ELBO under that likelihood."""
    config = ModelConfig(latent_dim=3, architecture=architecture, hidden=(8, 16), image_shape=(3, 16, 16),
                         likelihood=likelihood)  # type: ignore[arg-type]  # fmt: skip
    torch.manual_seed(0)
    network = VAE(config)
    per_value = network.likelihood.outputs_per_value
    assert network.decode(torch.zeros(5, 3)).shape == (5, per_value * 3 * 16 * 16)
    x = torch.randint(0, 256, (32, 3 * 16 * 16), generator=torch.Generator().manual_seed(1)).float() / 255
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    losses = []
    for step in range(30):
        parts = objective(network, x, TrainConfig(), torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        parts.loss.mean().backward()
        optimizer.step()
        losses.append(float(parts.loss.mean().detach()))
    assert all(math.isfinite(loss) for loss in losses) and losses[-1] < losses[0], losses


def test_conv_stages_halve_the_image_and_the_decoder_mirrors_them() -> None:
    network = VAE(ModelConfig(latent_dim=2, architecture="conv"))
    assert DEFAULT_HIDDEN["conv"] == (32, 64)
    assert ModelConfig(architecture="conv", image_shape=(3, 32, 32)).hidden == (32, 64)  # 32 -> 8
    assert ModelConfig(architecture="conv", image_shape=(3, 64, 64)).hidden == (32, 64, 128)  # 64 -> 8
    assert ModelConfig(architecture="conv", image_shape=(3, 128, 96)).hidden == (32, 64, 128, 256)  # 96 -> 6
    assert network.encoder(torch.zeros(1, 1, 28, 28)).shape == (1, 64 * 7 * 7)  # 28 -> 14 -> 7
    with pytest.raises(ValueError, match="halve a 28x28 image to nothing"):
        ModelConfig(architecture="conv", hidden=(8, 8, 8, 8, 8))


def test_mlp_parameters_keep_their_names_and_order() -> None:
    """The names let saved models load; the order (the order of construction) makes a seed give the same
    initial weights, and so the same trained model, as it always has."""
    names = list(VAE(ModelConfig(latent_dim=2, hidden=(64,))).state_dict())
    assert names == [
        "encoder.0.weight", "encoder.0.bias", "posterior_head.weight", "posterior_head.bias",
        "decoder.0.0.weight", "decoder.0.0.bias", "decoder.1.weight", "decoder.1.bias",
    ]  # fmt: skip


def test_a_config_saved_before_image_shapes_reads_as_mnist() -> None:
    config = model_config_from_dict({"latent_dim": 2, "hidden": [64], "architecture": "mlp"})
    assert config.image_shape == (1, 28, 28) and config.pixels == 784


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory: pytest.TempPathFactory, mnist: Dataset) -> Path:
    folder = tmp_path_factory.mktemp("conv-home") / "tiny-conv"
    train(
        folder,
        model_id="tiny-conv",
        title="Tiny conv",
        model_config=ModelConfig(latent_dim=4, architecture="conv", hidden=(8, 16)),
        config=TrainConfig(epochs=3, lr=3e-3, device="cpu", train_limit=2000, test_limit=500),
        dataset=mnist,
        progress=False,
    )
    return folder


def test_a_conv_checkpoint_round_trips_and_records_its_architecture(conv_model: Path) -> None:
    info, network = load_network(conv_model)
    saved = load_file(str(conv_model / WEIGHTS_FILE))
    assert saved.keys() == network.state_dict().keys()
    assert all(torch.equal(tensor, network.state_dict()[name]) for name, tensor in saved.items())
    config = json.loads((conv_model / CONFIG_FILE).read_text())["model"]
    assert config == {
        "latent_dim": 4,
        "architecture": "conv",
        "hidden": [8, 16],
        "image_shape": [1, 28, 28],
        "activation": "relu",
        "init": "pytorch",
        "likelihood": "bernoulli",
        "likelihood_scale": None,
    }
    assert info.model_config.architecture == "conv"


def test_a_conv_model_learns_mnist_and_its_estimators_run(conv_model: Path, test_set: ImageSet) -> None:
    _, network = load_network(conv_model)
    x = test_set.head(500).pixels()
    torch.manual_seed(0)
    untrained = elbo_metrics(VAE(network.config), x).neg_elbo
    trained = elbo_metrics(network, x).neg_elbo
    assert trained < untrained - 200, (untrained, trained)
    result = compare_estimators(network, x[:2], sample_counts=(1, 10), repetitions=4)
    assert result["score"][0].encoder_variance > result["reparam"][0].encoder_variance > 0
