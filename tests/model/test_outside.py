"""The outside-model protocol: every posterior and decoder shape it adapts, the checks at load, and the
factories named on the command line."""

import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import distributions, nn

from model.data import Dataset, load_prepared
from model.factories import build, from_factory, memory_dataset, prepare
from model.home import data_root
from model.inference import LoadedModel, Origin
from model.likelihoods import DiscretizedLogistic
from model.metrics import elbo_metrics
from model.outside import Wrapped, wrap

SHAPE = (1, 28, 28)


class Linear(nn.Module):
    """A tiny VAE of linear maps whose encoder returns what `posterior` makes of (mu, logvar)."""

    def __init__(self, posterior: Any = None, latent_dim: int = 3, output: str = "logits") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.to_mu, self.to_logvar = nn.Linear(784, latent_dim), nn.Linear(784, latent_dim)
        self.to_logits = nn.Linear(latent_dim, 784)
        self.posterior = posterior or (lambda mu, logvar: (mu, logvar))
        self.output = output

    def encode(self, x: torch.Tensor) -> Any:
        flat = x.reshape(x.shape[0], -1)
        return self.posterior(self.to_mu(flat), self.to_logvar(flat).clamp(-4, 2))

    def decode(self, z: torch.Tensor) -> Any:
        logits = self.to_logits(z)
        if self.output == "means":
            return torch.sigmoid(logits).reshape(-1, *SHAPE)
        if self.output == "bernoulli":
            return distributions.Independent(distributions.Bernoulli(logits=logits), 1)
        return logits


@dataclass
class DiffusersLike:
    """diffusers' DiagonalGaussianDistribution keeps mean and logvar; its encoder output wraps it."""

    mean: torch.Tensor
    logvar: torch.Tensor


POSTERIORS = {
    "tuple": lambda mu, logvar: (mu, logvar),
    "normal": lambda mu, logvar: distributions.Normal(mu, (0.5 * logvar).exp()),
    "independent": lambda mu, logvar: distributions.Independent(
        distributions.Normal(mu, (0.5 * logvar).exp()), 1
    ),
    "mu-logvar object": lambda mu, logvar: SimpleNamespace(mu=mu, logvar=logvar),
    "mean-stddev object": lambda mu, logvar: SimpleNamespace(mean=mu, stddev=(0.5 * logvar).exp()),
    "dict": lambda mu, logvar: {"mu": mu, "logvar": logvar},
    "diffusers": lambda mu, logvar: SimpleNamespace(latent_dist=DiffusersLike(mu, logvar)),
}


def _loaded(wrapped: Wrapped, mnist: Dataset) -> LoadedModel:
    return LoadedModel.outside(
        "outside",
        wrapped,
        mnist.info,
        mnist.test,
        fit_images=mnist.train,
        origin=Origin("notebook", "test"),
        folder=Path("unused"),
    )


@pytest.mark.parametrize("shape", POSTERIORS)
def test_every_posterior_shape_gives_the_same_gaussian(shape: str, mnist: Dataset) -> None:
    x = mnist.test.head(8).pixels()
    reference = Linear()
    expected_mu, expected_logvar = reference.encode(x)
    posterior = _loaded(wrap(Linear(POSTERIORS[shape])), mnist).network.encode(x)
    assert torch.allclose(posterior.mu, expected_mu)
    assert torch.allclose(posterior.logvar, expected_logvar, atol=1e-5)


@pytest.mark.parametrize("output", ["means", "bernoulli"])
def test_means_and_distributions_give_the_likelihood_of_the_logits(output: str, mnist: Dataset) -> None:
    """Pixel means (as images) and a Bernoulli distribution give the same log p(x|z) as the logits they
    come from, computed here with binary cross-entropy on the means."""
    x = mnist.test.head(16).pixels()
    z = torch.randn(16, 3, generator=torch.Generator().manual_seed(1))
    logits = Linear().decode(z)
    network = _loaded(wrap(Linear(output=output), decodes="means"), mnist).network
    expected = -F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").sum(dim=1)
    adapted = -F.binary_cross_entropy_with_logits(network.decode(z), x, reduction="none").sum(dim=1)
    assert torch.allclose(adapted, expected, rtol=1e-4)
    assert network.decode(z[None].expand(5, -1, -1)).shape == (5, 16, 784)  # [S, B, D] for IWAE


def test_flat_inputs_and_declarations_from_the_module(mnist: Dataset) -> None:
    class Flat(Linear):
        dataset, decodes, inputs, title = "mnist", "logits", "flat", "A flat one"

        def encode(self, x: torch.Tensor) -> Any:
            if x.ndim != 2:
                raise ValueError("wants [B, 784]")
            return super().encode(x)

    loaded = _loaded(wrap(Flat()), mnist)
    assert loaded.title == "A flat one" and loaded.latent_dim == 3
    assert wrap(Flat()).declared.dataset == "mnist"
    assert wrap(Flat(), title="Given").declared.title == "Given"  # a keyword wins over the attribute
    assert wrap(wrap(Flat(), decodes="means"), title="Again").declared.decodes == "means"  # kept


def test_the_encoder_parameters_are_those_q_depends_on(mnist: Dataset) -> None:
    frozen = Linear().requires_grad_(False)  # as a model loaded for inference often is
    network = _loaded(wrap(frozen), mnist).network
    expected = {id(p) for p in (*frozen.to_mu.parameters(), *frozen.to_logvar.parameters())}
    assert {id(p) for p in network.encoder_parameters()} == expected
    assert not any(p.requires_grad for p in frozen.parameters())  # left as it was


def test_the_fingerprint_follows_the_weights(mnist: Dataset) -> None:
    first, same = _loaded(wrap(Linear()), mnist), _loaded(wrap(Linear()), mnist)
    assert first.weights == same.weights
    with torch.no_grad():
        same.network.network.to_logits.bias += 0.01  # type: ignore[operator, union-attr]
    assert same.network.fingerprint() != first.weights


def test_metrics_run_on_an_outside_model(mnist: Dataset) -> None:
    """The ELBO of the metrics equals one computed here from the module's own outputs at z = mu + sigma eps
    with the same draws (KL analytic)."""
    network = _loaded(wrap(Linear()), mnist).network
    x = mnist.test.head(32).pixels()
    metrics = elbo_metrics(network, x, samples=1, seed=3)
    with torch.no_grad():
        mu, logvar = Linear().encode(x)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(3))
        logits = Linear().decode(mu + (0.5 * logvar).exp() * eps)
    reconstruction = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)
    assert metrics.neg_elbo == pytest.approx(float((kl - reconstruction).mean()), rel=1e-4)


class Broken(Linear):
    def __init__(self, fault: str) -> None:
        super().__init__()
        self.fault = fault

    def encode(self, x: torch.Tensor) -> Any:
        mu, logvar = super().encode(x)
        if self.fault == "encode raises":
            raise RuntimeError("CUDA out of memory")
        if self.fault == "one dimension":
            return mu[:, :1], logvar[:, :1]
        if self.fault == "mu and logvar differ":
            return mu, logvar[:, :2]
        if self.fault == "three outputs":
            return mu, mu, logvar
        if self.fault == "nan posterior":
            return mu * float("nan"), logvar
        return mu, logvar

    def decode(self, z: torch.Tensor) -> Any:
        logits = super().decode(z)
        if self.fault == "wrong size":
            return logits[:, :10]
        if self.fault == "nan decoder":
            return logits + float("nan")
        if self.fault == "means out of range":
            return logits
        if self.fault == "logits in range":
            return torch.sigmoid(logits)
        return logits


FAULTS = {
    "encode raises": "encode raised RuntimeError: CUDA out of memory",
    "one dimension": "the latent space has 1 dimension: the map needs at least 2",
    "mu and logvar differ": "encode gave mu [64, 3] and logvar [64, 2] for 64 images: both must be "
    "[64, latent size]",
    "three outputs": "encode raised TypeError: encode returned a tuple of 3: return (mu, logvar)",
    "nan posterior": "encode gave a mu or logvar that is not finite (NaN or inf)",
    "wrong size": "decode gave [64, 10]: it must give [B, 1, 28, 28] or [B, 784] for the data set's images",
    "nan decoder": "decode gave values that are not finite (NaN or inf) for 64 latent points",
    "means out of range": "declared as pixel means in [0, 1]: if they are logits, declare decodes='logits'",
    "logits in range": "declared as Bernoulli logits: these look like pixel means, so declare "
    "decodes='means'",
    "latent size declared wrong": "encode gave 3 latent dimensions, latent_dim says 5",
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_model_that_cannot_be_served_fails_its_check_with_the_reason(fault: str, mnist: Dataset) -> None:
    declared = {"decodes": "means"} if fault == "means out of range" else {}
    if fault == "latent size declared wrong":
        declared = {"latent_dim": 5}
    with pytest.raises(ValueError) as raised:
        _loaded(wrap(Broken(fault), **declared), mnist)
    assert FAULTS[fault] in str(raised.value)


def _factory_file(folder: Path, body: str) -> str:
    path = folder / "factory.py"
    path.write_text(body)
    return f"{path}:build"


BAD_FACTORIES = {
    "import error": ("import not_a_module_anywhere\n", "raised ModuleNotFoundError: No module named"),
    "raises": ("def build():\n    raise OSError('vae.pt not found')\n", "raised OSError: vae.pt not found"),
    "returns a tensor": ("import torch\ndef build():\n    return torch.zeros(3)\n", "returned Tensor"),
    "no factory": ("x = 1\n", "has no callable 'build'"),
    "bad declaration": (
        "from torch import nn\nfrom model.outside import wrap\n"
        "def build():\n    return wrap(nn.Linear(2, 2), decodes='probabilities')\n",
        "raised ValueError: decodes must be 'logits' or 'means', got 'probabilities'",
    ),
}


@pytest.mark.parametrize("case", BAD_FACTORIES)
def test_a_bad_factory_is_one_error_naming_the_problem(case: str, tmp_path: Path) -> None:
    body, message = BAD_FACTORIES[case]
    target = _factory_file(tmp_path, body)
    with pytest.raises(ValueError) as raised:
        build(target)
    assert message in str(raised.value)
    outside = from_factory(f"bad={target}", tmp_path)  # what serve does: the model is skipped
    assert outside.wrapped is None and outside.problem is not None and message in outside.problem


def test_a_factory_must_declare_its_data_set(tmp_path: Path) -> None:
    target = _factory_file(tmp_path, "from torch import nn\ndef build():\n    return nn.Linear(2, 2)\n")
    outside = from_factory(f"nodata={target}", tmp_path)
    assert outside.problem is not None
    assert outside.problem.startswith("declare the data set it was trained on")


def test_a_module_path_factory_and_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"write ID=package\.module:factory"):
        from_factory("model.outside:wrap", tmp_path)
    with pytest.raises(ValueError, match="invalid model id 'Bad Id'"):
        from_factory("Bad Id=model.outside:wrap", tmp_path)
    assert from_factory("x=model.home:no_such", tmp_path).problem == "model.home has no callable 'no_such'"
    with pytest.raises(ValueError, match=r"model\.home:atlas_home returned PosixPath: return a torch"):
        build("model.home:atlas_home")  # imported by module name, called, refused for what it returned


def test_images_in_memory_become_a_data_set(mnist: Dataset) -> None:
    floats = mnist.test.head(50).pixels().reshape(50, 28, 28)
    dataset = memory_dataset(floats, mnist.test.labels[:50], [f"digit {i}" for i in range(10)])
    assert torch.equal(dataset.test.images, mnist.test.images[:50]) and dataset.info.labelled
    assert dataset.info.class_names[3] == "digit 3" and dataset.info.key.startswith("memory-")
    unlabelled = memory_dataset(mnist.test.images[:50].numpy())
    assert unlabelled.info.class_names == ("image",) and not unlabelled.info.labelled
    with pytest.raises(ValueError, match=r"images must be floats in \[0, 1\]"):
        memory_dataset(floats * 255)
    with pytest.raises(ValueError, match="class_names has 2 names for labels up to 9"):
        memory_dataset(floats, mnist.test.labels[:50], ["a", "b"])


class TanhConvVAE(nn.Module):
    """A conv VAE as widely used public VAE code writes one: BatchNorm and LeakyReLU, encode returning
    [mu, log_var], a decoder ending in Tanh, trained with an MSE loss on images scaled to [-1, 1]."""

    def __init__(self, latent_dim: int = 8, output: str = "tensor") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(), nn.Flatten(),
        )  # fmt: skip
        self.fc_mu, self.fc_var = nn.Linear(32 * 7 * 7, latent_dim), nn.Linear(32 * 7 * 7, latent_dim)
        self.decoder_input = nn.Linear(latent_dim, 32 * 7 * 7)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(16),
            nn.LeakyReLU(), nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
        )  # fmt: skip
        self.output = output

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.min() < -0.5:  # as the user's loop fed it: [-1, 1], never [0, 1]
            self.saw_negative = True
        result = self.encoder(x)
        return [self.fc_mu(result), self.fc_var(result).clamp(-6, 2)]

    def decode(self, z: torch.Tensor) -> Any:
        means = self.decoder(self.decoder_input(z).reshape(-1, 32, 7, 7))
        if self.output == "normal":
            return distributions.Normal(means, torch.full_like(means, 0.3))
        if self.output == "sample":  # diffusers' DecoderOutput
            return SimpleNamespace(sample=means)
        return means


def _model_space_elbo(net: TanhConvVAE, x: torch.Tensor, sigma: float, samples: int) -> float:
    """The ELBO written from the model's own outputs on its [-1, 1] values, with the same draws as
    elbo_metrics (a generator seeded 0): x_m = 2x - 1, so p(x) = p(x_m) 2^V on intensities."""
    x_m = (2 * x - 1).reshape(-1, 1, 28, 28)
    with torch.no_grad():
        mu, log_var = net.encode(x_m)
        generator, reconstruction = torch.Generator().manual_seed(0), torch.zeros(len(x))
        for _ in range(samples):
            z = mu + (0.5 * log_var).exp() * torch.randn(mu.shape, generator=generator)
            reconstruction += distributions.Normal(net.decode(z), sigma).log_prob(x_m).sum(dim=(1, 2, 3))
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(dim=1)
    return float((reconstruction / samples - kl).mean()) + 784 * math.log(2)


def test_an_mse_trained_tanh_model_is_scored_under_its_fitted_gaussian(mnist: Dataset) -> None:
    """Declared as a gaussian on [-1, 1] with no scale: sigma is fitted on the training images (the mean
    squared error of their reconstructions), and the lab's ELBO matches one computed independently."""
    net = TanhConvVAE().eval()
    network = _loaded(wrap(net, likelihood="gaussian", value_range=(-1, 1)), mnist).network
    assert net.saw_negative
    with torch.no_grad():
        train_m = (2 * mnist.train.head(1000).pixels() - 1).reshape(-1, 1, 28, 28)
        mu, log_var = net.encode(train_m)
        z = mu + (0.5 * log_var).exp() * torch.randn(mu.shape, generator=torch.Generator().manual_seed(9))
        sigma_m = float((train_m - net.decode(z)).pow(2).mean().sqrt())
    assert network.likelihood.spec() == {"name": "gaussian", "scale": pytest.approx(sigma_m / 2, rel=0.01)}
    x = mnist.test.head(200).pixels()
    expected = _model_space_elbo(net, x, sigma_m, samples=20)
    assert -elbo_metrics(network, x, samples=20).neg_elbo == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("output", ["normal", "sample"])
def test_a_normal_decoder_is_a_learned_gaussian_and_sample_outputs_are_unwrapped(
    output: str, mnist: Dataset
) -> None:
    """A Normal's scale is the decoder's own (taken as gaussian-learned); diffusers' DecoderOutput is read
    through its .sample. Each log p(x|z) on intensities is the model's own plus the Jacobian V log 2."""
    net = TanhConvVAE(output=output).eval()
    declared = {"likelihood": "gaussian", "likelihood_scale": 0.3} if output == "sample" else {}
    network = _loaded(wrap(net, value_range=(-1, 1), **declared), mnist).network
    assert network.likelihood.name == ("gaussian-learned" if output == "normal" else "gaussian")
    x, z = mnist.test.head(8).pixels(), torch.randn(8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        means = TanhConvVAE().eval().decode(z)
        expected = distributions.Normal(means, 0.3).log_prob((2 * x - 1).reshape(-1, 1, 28, 28))
        got = network.log_likelihood(z, x)
    assert torch.allclose(got, expected.sum(dim=(1, 2, 3)) + 784 * math.log(2), rtol=1e-5)


def test_stacked_means_and_log_scales_feed_the_discretized_logistic(mnist: Dataset) -> None:
    class Stacked(Linear):
        def decode(self, z: torch.Tensor) -> torch.Tensor:
            means = torch.sigmoid(super().decode(z)).reshape(-1, 1, 28, 28)
            return torch.cat([means, torch.full_like(means, -3.0)], dim=1)  # [B, 2C, H, W]

    network = _loaded(wrap(Stacked(), likelihood="logistic"), mnist).network
    x, z = mnist.test.head(8).pixels(), torch.randn(8, 3, generator=torch.Generator().manual_seed(3))
    params = torch.cat([torch.sigmoid(Linear().decode(z)), torch.full((8, 784), -3.0)], dim=1)
    assert torch.allclose(network.log_likelihood(z, x), DiscretizedLogistic().log_prob(params, x))


def test_a_normalization_is_the_affine_map_it_names(mnist: Dataset) -> None:
    """torchvision's Normalize((0.5,), (0.5,)) maps [0, 1] onto [-1, 1]: both declarations give one q(z|x)."""
    x = mnist.test.head(8).pixels()
    by_range = _loaded(wrap(TanhConvVAE().eval(), value_range=(-1, 1), likelihood="gaussian"), mnist)
    by_mean_std = _loaded(wrap(TanhConvVAE().eval(), normalization=(0.5, 0.5), likelihood="gaussian"), mnist)
    assert torch.allclose(by_range.network.encode(x).mu, by_mean_std.network.encode(x).mu, atol=1e-6)


BAD_DECLARATIONS = {
    "unknown likelihood": (
        {"likelihood": "poisson"},
        "likelihood must be one of bernoulli, continuous-bernoulli, gaussian, gaussian-learned, logistic, "
        "got 'poisson'",
    ),
    "scale alone": (
        {"likelihood_scale": 0.1},
        "likelihood_scale is a gaussian's sigma: declare likelihood='gaussian' with it",
    ),
    "negative scale": (
        {"likelihood": "gaussian", "likelihood_scale": -1.0},
        "a Gaussian likelihood's scale must be a number > 0, got -1.0",
    ),
    "range upside down": (
        {"value_range": (1, -1)},
        "value_range must be (low, high) with low < high, got (1, -1)",
    ),
    "range and normalization": (
        {"value_range": (-1, 1), "normalization": (0.5, 0.5)},
        "declare value_range or normalization, not both",
    ),
}


@pytest.mark.parametrize("case", BAD_DECLARATIONS)
def test_a_bad_declaration_is_refused_with_what_to_declare(case: str) -> None:
    declarations, message = BAD_DECLARATIONS[case]
    with pytest.raises(ValueError) as raised:
        wrap(Linear(), **declarations)
    assert str(raised.value) == message


LOAD_FAULTS = {
    "normalization per channel": (
        {"normalization": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))},
        "normalization's mean has 3 values for 1 channels",
    ),
    "one output for two": (
        {"likelihood": "logistic"},
        "decode gave [64, 784]: it must give [B, 2, 28, 28] or [B, 1568] for the data set's images "
        "(means and log-scales stacked)",
    ),
}


@pytest.mark.parametrize("case", LOAD_FAULTS)
def test_a_declaration_that_does_not_fit_the_model_fails_at_load(case: str, mnist: Dataset) -> None:
    declarations, message = LOAD_FAULTS[case]
    with pytest.raises(ValueError) as raised:
        _loaded(wrap(Linear(), **declarations), mnist)
    assert str(raised.value) == message


def test_a_model_for_other_images_names_both_shapes(mnist: Dataset) -> None:
    class ForCifar(Linear):
        def __init__(self) -> None:
            super().__init__()
            self.to_mu, self.to_logvar = nn.Linear(3 * 32 * 32, 3), nn.Linear(3 * 32 * 32, 3)

    with pytest.raises(ValueError) as raised:
        _loaded(wrap(ForCifar()), mnist)
    assert str(raised.value) == (
        "encode raised RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x784 and 3072x3) "
        "(given the data set's images as [64, 1, 28, 28]; a model of other images declares them: "
        "image_size=SIDE for a folder: data set, inputs='flat' for flat pixels)"
    )


class Colour64(nn.Module):
    """A conv VAE of 64x64 colour images in [-1, 1] (three stride-2 stages down to 8x8)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 8, 4, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(8, 8, 4, 2, 1), nn.Flatten(), nn.Linear(8 * 8 * 8, 2 * 4),
        )  # fmt: skip
        self.decoder = nn.Sequential(nn.Linear(4, 3 * 64 * 64), nn.Tanh(), nn.Unflatten(1, (3, 64, 64)))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[1:] != (3, 64, 64):
            raise ValueError(f"wants [B, 3, 64, 64], got {list(x.shape)}")
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def test_a_folder_is_prepared_at_the_size_the_model_declares(tmp_path: Path) -> None:
    """image_size=64 prepares the folder at 64x64 (its default for colour is 32): that copy is the one the
    model is checked, served and evaluated on; without the declaration the encoder's error names both."""
    root = tmp_path / "faces"
    for name, colour in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
        (root / name).mkdir(parents=True)
        for index in range(8):
            Image.new("RGB", (90, 70), colour).save(root / name / f"{index}.png")
    declared = {"dataset": f"folder:{root}", "likelihood": "gaussian", "value_range": (-1, 1)}
    home, origin = tmp_path / "home", Origin("factory", "test")
    sized = prepare("faces-64", wrap(Colour64(), image_size=64, **declared), home, origin)
    assert sized.dataset is not None and sized.dataset.image_shape == (3, 64, 64)
    dataset = load_prepared(data_root(home), sized.dataset.key)
    loaded = LoadedModel.outside(
        "faces-64", sized.wrapped, dataset.info, dataset.test, fit_images=dataset.train, origin=origin,
        folder=tmp_path / "cache",
    )  # fmt: skip
    assert loaded.reconstruct(dataset.test.pixels()[:2]).shape == (2, 3, 64, 64)
    unsized = prepare("faces", wrap(Colour64(), **declared), home, origin)
    assert unsized.dataset is not None and unsized.dataset.image_shape == (3, 32, 32)
    default = load_prepared(data_root(home), unsized.dataset.key)
    with pytest.raises(
        ValueError, match=r"got \[3, 3, 32, 32\] \(given the data set's images as \[3, 3, 32, 32\]"
    ):
        LoadedModel.outside(
            "faces", unsized.wrapped, default.info, default.test, origin=origin, folder=tmp_path
        )


def test_a_continuous_bernoulli_decoder_is_scored_as_one(mnist: Dataset) -> None:
    """Its distribution names its likelihood: log p(x|z) is torch's ContinuousBernoulli log_prob."""

    class Continuous(Linear):
        def decode(self, z: torch.Tensor) -> Any:
            return distributions.ContinuousBernoulli(logits=super().decode(z))

    network = _loaded(wrap(Continuous()), mnist).network
    assert network.likelihood.name == "continuous-bernoulli"
    x, z = mnist.test.head(8).pixels(), torch.randn(8, 3, generator=torch.Generator().manual_seed(4))
    expected = distributions.ContinuousBernoulli(logits=Linear().decode(z)).log_prob(x).sum(dim=1)
    assert torch.allclose(network.log_likelihood(z, x), expected, rtol=1e-5)
    with pytest.raises(ValueError) as raised:
        _loaded(wrap(Continuous(), likelihood="bernoulli"), mnist)
    assert str(raised.value) == (
        "decode gave a continuous-bernoulli distribution, and the likelihood declared is 'bernoulli': "
        "declare likelihood='continuous-bernoulli'"
    )


def test_a_declared_sigma_is_taken_from_the_models_values_to_intensities() -> None:
    """Normalised by std 0.25 per channel, the model's values are 4 times the intensities: its sigma of 0.2
    is 0.05 on intensities (the densities the atlas compares)."""
    declared = {"likelihood": "gaussian", "likelihood_scale": 0.2, "normalization": ((0.5,) * 3, (0.25,) * 3)}
    network = wrap(Colour64(), **declared).adapt((3, 64, 64), torch.device("cpu"))
    assert network.likelihood.spec() == {"name": "gaussian", "scale": pytest.approx(0.05)}
