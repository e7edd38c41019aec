"""Bring your own model: a VAE built by the user's own code, served and evaluated like one trained here.

The protocol an outside model offers, kept small (`wrap` adapts the rest):
  encode(x)  images x, [B, C, H, W] (or [B, C*H*W] with inputs="flat"), in the values it declares
             (value_range, normalization; [0, 1] by default) -> the Gaussian posterior q(z|x): a (mu, logvar)
             pair of [B, D] tensors, a torch.distributions.Normal (or an Independent one), or any object (or
             dict) with mu/logvar, mean/logvar, mean/stddev or loc/scale; diffusers' output with a
             `latent_dist` is unwrapped. A spatial posterior, [B, C, h, w], is flattened to [B, C*h*w]
             for the atlas and given back to decode in its shape.
  decode(z)  z: [B, D] (or the posterior's [B, C, h, w]) -> p(x|z) for every pixel, [B, C, H, W] or
             [B, C*H*W], as its likelihood reads it: bernoulli (and continuous-bernoulli): logits
             (decodes="logits") or the probabilities (decodes="means"), or a Bernoulli
             (ContinuousBernoulli) distribution; gaussian: the means (the scale declared, or fitted);
             gaussian-learned and logistic: a Normal distribution, or the means and log-scales stacked
             along the channels. Objects with a tensor `.sample` (diffusers' DecoderOutput) are unwrapped.
  declared   the data set it was trained on (a registry name or folder:PATH) and, optionally, its
             likelihood (model.likelihoods; a decoder giving a distribution is taken as that
             distribution's likelihood, any other as bernoulli), a gaussian's scale in its own values, its
             latent size (checked), a title and class names.
Each declaration is a keyword of `wrap`, else an attribute of the same name on the module, else what its
library implies (model/conventions.py: a pythae model's likelihood), else its default: a module that
carries `dataset = "mnist"` and `decodes = "means"` needs no keywords.

`check` runs one batch of the data set through encode and decode when the model loads, so a model that
cannot be served fails at start-up with one message naming the problem, never on a visitor's request.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import torch
from torch import distributions, nn

from model.conventions import library_declarations, library_method
from model.likelihoods import LIKELIHOODS, Gaussian, Likelihood, likelihood_of
from model.vae import DiagonalGaussian, LatentModel
from model.value_range import UNIT, ValueRange

Decodes = Literal["logits", "means"]
Inputs = Literal["images", "flat"]
DECLARATIONS = (
    "dataset",
    "image_size",
    "likelihood",
    "likelihood_scale",
    "decodes",
    "value_range",
    "normalization",
    "inputs",
    "latent_dim",
    "title",
    "class_names",
)
CHECK_BATCH = 64  # test images through encode and decode at load
FIT_IMAGES = 1000  # training images a gaussian's undeclared scale is fitted on (its error: ~2% of sigma / 30)
# Float32 keeps 2^-24 of resolution below 1: a saturated sigmoid's 0 or 1 is read as this close to it.
MEANS_EPSILON = 2.0**-24
_POSTERIOR_FIELDS = (
    ("mu", "logvar"),
    ("mean", "logvar"),
    ("mean", "stddev"),
    ("loc", "scale"),
    ("embedding", "log_covariance"),  # pythae's encoders
)
_LOG_VARIANCES = ("logvar", "log_covariance")


@dataclass(frozen=True)
class Declared:
    """What an outside model declares about itself."""

    dataset: str | None
    image_size: int | None  # the side a folder: data set is prepared at for it (the folder's default if None)
    likelihood: str | None  # None: from what decode gives (a Normal: gaussian-learned; else bernoulli)
    likelihood_scale: float | None  # a gaussian's sigma in the model's values; None: fitted
    decodes: Decodes
    value_range: tuple[float, float] | None
    normalization: tuple[tuple[float, ...], tuple[float, ...]] | None
    inputs: Inputs
    latent_dim: int | None
    title: str | None
    class_names: tuple[str, ...] | None

    def values(self, channels: int) -> ValueRange:
        """The values the model takes its images in (ValueError when the declaration cannot be)."""
        if self.normalization is not None:
            return ValueRange.normalised(*self.normalization, channels)
        if self.value_range is not None:
            return ValueRange.interval(*self.value_range, channels)
        return UNIT


@dataclass(frozen=True)
class FittedScale:
    """A gaussian's sigma (on intensities) that maximises the ELBO of `images` training images: the mean
    squared error of their reconstructions from z ~ q(z|x), as an MSE-trained model implies."""

    sigma: float
    images: int


def _gaussian(posterior: Any) -> DiagonalGaussian:
    """The common shapes of an encoder's output as q(z|x) = N(mu, diag(exp(logvar)))."""
    posterior = getattr(posterior, "latent_dist", posterior)
    if isinstance(posterior, DiagonalGaussian):
        return posterior
    if isinstance(posterior, distributions.Independent):
        posterior = posterior.base_dist
    if isinstance(posterior, distributions.Normal):
        return DiagonalGaussian(posterior.loc, 2 * posterior.scale.log())
    if isinstance(posterior, tuple | list):
        if len(posterior) != 2 or not all(isinstance(part, torch.Tensor) for part in posterior):
            raise TypeError(
                f"encode returned a {type(posterior).__name__} of {len(posterior)}: return (mu, logvar)"
            )
        return DiagonalGaussian(posterior[0], posterior[1])
    for first, second in _POSTERIOR_FIELDS:
        centre, spread = _field(posterior, first), _field(posterior, second)
        if isinstance(centre, torch.Tensor) and isinstance(spread, torch.Tensor):
            logvar = spread if second in _LOG_VARIANCES else 2 * spread.log()
            return DiagonalGaussian(centre, logvar)
    raise TypeError(
        f"encode returned {type(posterior).__name__}: return (mu, logvar), a torch.distributions.Normal, "
        "or an object with mu and logvar (or mean and stddev)"
    )


def _field(container: Any, name: str) -> Any:
    return container.get(name) if isinstance(container, dict) else getattr(container, name, None)


# Likelihoods whose decoder gives logits, or the probabilities they are the logits of (decodes="means").
_FROM_LOGITS = ("bernoulli", "continuous-bernoulli")


@dataclass(frozen=True)
class _Output:
    """A decoder's output read: `values` (a distribution's logits or loc, else the model's values: means,
    or means and log-scales stacked), the likelihood a distribution names (`family`), and the log-scales
    of a Normal."""

    values: torch.Tensor
    family: str | None = None
    log_scale: torch.Tensor | None = None


def _read_output(output: Any) -> _Output:
    """The shapes a decoder's output comes in -> _Output."""
    if isinstance(output, dict) and "reconstruction" in output:  # pythae's decoders
        output = output["reconstruction"]
    if not isinstance(output, torch.Tensor | distributions.Distribution):
        output = getattr(output, "sample", output)  # diffusers' DecoderOutput holds its images as .sample
    if isinstance(output, distributions.Independent):
        output = output.base_dist
    if isinstance(output, distributions.Bernoulli):
        return _Output(output.logits, family="bernoulli")
    if isinstance(output, distributions.ContinuousBernoulli):
        return _Output(output.logits, family="continuous-bernoulli")
    if isinstance(output, distributions.Normal):
        return _Output(output.loc, family="gaussian-learned", log_scale=output.scale.log())
    if isinstance(output, torch.Tensor):
        return _Output(output)
    raise TypeError(
        f"decode returned {type(output).__name__}: return a tensor (logits or means), a Bernoulli, "
        "ContinuousBernoulli or Normal distribution, or an object whose .sample is a tensor"
    )


class OutsideVAE(LatentModel):
    """A user's module behind the interface the atlas computes with: encode -> DiagonalGaussian over flat
    [B, C*H*W] intensities in [0, 1], decode -> the parameters of its likelihood on those intensities,
    [..., P*C*H*W]. The likelihood is settled by `check`."""

    def __init__(
        self,
        network: nn.Module,
        declared: Declared,
        image_shape: tuple[int, int, int],
        *,
        encode: Callable[[torch.Tensor], Any] | None = None,
        decode: Callable[[torch.Tensor], Any] | None = None,
    ) -> None:
        super().__init__()
        self.network = network
        self.declared = declared
        self.image_shape = image_shape
        self.values = declared.values(image_shape[0])
        self._encode = self._method(network, "encode", encode)
        self._decode = self._method(network, "decode", decode)
        self._latent_dim = declared.latent_dim or 0  # set from the first encoding when not declared
        self._latent_shape: tuple[int, ...] = (self._latent_dim,)
        self._encoder_parameters: list[nn.Parameter] = []
        scale = None  # a declared gaussian's sigma, from the model's values to intensities
        if declared.likelihood == "gaussian":  # 1 stands in for an undeclared one until check() fits it
            declared_scale = declared.likelihood_scale
            scale = 1.0 if declared_scale is None else self.values.scale_from_model(declared_scale)
        self._likelihood: Likelihood = likelihood_of(declared.likelihood or "bernoulli", scale)
        self.fitted: FittedScale | None = None

    @staticmethod
    def _method(
        network: nn.Module, name: str, given: Callable[[torch.Tensor], Any] | None
    ) -> Callable[[torch.Tensor], Any]:
        function = given or getattr(network, name, None) or library_method(network, name)
        if not callable(function):
            raise TypeError(f"{type(network).__name__} has no {name} method: pass {name}= to wrap()")
        return function

    @property
    def latent_dim(self) -> int:
        return self._latent_dim

    @property
    def likelihood(self) -> Likelihood:
        return self._likelihood

    @property
    def likelihood_label(self) -> str:
        if self.fitted is None:
            return self._likelihood.title
        return f"{self._likelihood.title}, fitted on {self.fitted.images:,} training images"

    @property
    def pixels(self) -> int:
        channels, height, width = self.image_shape
        return channels * height * width

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self._latent_shape

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        shape = (self.pixels,) if self.declared.inputs == "flat" else self.image_shape
        x = self.values.to_model(x.reshape(x.shape[0], self.pixels))
        return self._flat(_gaussian(self._encode(x.reshape(x.shape[0], *shape))))

    def _flat(self, posterior: DiagonalGaussian) -> DiagonalGaussian:
        """A spatial posterior, [B, C, h, w] (a latent image, as Stable Diffusion's VAE has), as the [B, D]
        the atlas computes with; its shape is kept for decode and for naming each dimension."""
        mu, logvar = posterior.mu, posterior.logvar
        if mu.ndim < 3 or logvar.shape != mu.shape:
            return posterior
        self._latent_shape = tuple(mu.shape[1:])
        return DiagonalGaussian(mu.flatten(1), logvar.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        output = _read_output(self._decode(z.reshape(-1, *self._latent_shape)))
        return self._params(output).reshape(*z.shape[:-1], -1)

    def _params(self, output: _Output) -> torch.Tensor:
        """The likelihood's parameters on intensities, [B, P*C*H*W], from a decoder's output."""
        rows, name = output.values.shape[0], self._likelihood.name
        values = output.values.reshape(rows, -1)
        if name in _FROM_LOGITS:
            if output.family == name or self.declared.decodes == "logits":
                return values
            means = self.values.from_model(values).clamp(MEANS_EPSILON, 1 - MEANS_EPSILON)
            return torch.log(means) - torch.log1p(-means)
        if name == "gaussian":
            return self.values.from_model(values)
        if output.log_scale is not None:
            mean, log_scale = values, output.log_scale.reshape(rows, -1)
        else:  # means and log-scales stacked along the channels: [B, 2C, H, W] or [B, 2*C*H*W]
            mean, log_scale = values.chunk(2, dim=1)
        return torch.cat([self.values.from_model(mean), self.values.log_scale_from_model(log_scale)], dim=1)

    def _check_family(self, output: _Output) -> None:
        """ValueError when the decoder gives a distribution of another likelihood than the one declared (a
        Normal's loc serves a fixed-scale Gaussian); checked at load, where the likelihood is settled."""
        name = self._likelihood.name
        if output.family in (None, name) or (output.family, name) == ("gaussian-learned", "gaussian"):
            return
        raise ValueError(
            f"decode gave a {output.family} distribution, and the likelihood declared is {name!r}: "
            f"declare likelihood={output.family!r}"
        )

    def encoder_parameters(self) -> list[nn.Parameter]:
        return self._encoder_parameters

    def check(self, images: torch.Tensor, fit_images: torch.Tensor | None = None) -> None:
        """Run images [B, C*H*W] through encode and decode; ValueError naming the first problem. Sets the
        latent size when it was not declared, finds the weights q(z|x) depends on, settles the likelihood,
        and fits a gaussian's undeclared scale on `fit_images` (the training images; `images` if None)."""
        parameters = list(self.network.parameters())
        trainable = [p.requires_grad for p in parameters]
        try:
            for parameter in parameters:  # a frozen model's encoder weights are found too
                parameter.requires_grad_(True)
            mu = self._check_encoded(images, parameters)
        finally:
            for parameter, flag in zip(parameters, trainable, strict=True):
                parameter.requires_grad_(flag)
        with torch.no_grad():
            prior = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0)).to(mu.device)
            for z in (mu, prior):
                self._check_decoded(self._call("decode", self._decode, z.reshape(-1, *self._latent_shape)))
        if self._likelihood.name == "gaussian" and self.declared.likelihood_scale is None:
            self.fitted = self._fit_scale(images if fit_images is None else fit_images[:FIT_IMAGES])
            self._likelihood = Gaussian(self.fitted.sigma)

    def _check_encoded(self, images: torch.Tensor, parameters: list[nn.Parameter]) -> torch.Tensor:
        """The posterior means of `images` once their shapes and values are checked."""
        with torch.enable_grad():
            try:
                posterior = self.encode(images)
            except Exception as error:
                flat = self.declared.inputs == "flat"
                given = [len(images), *((self.pixels,) if flat else self.image_shape)]
                raise ValueError(
                    f"encode raised {type(error).__name__}: {error} (given the data set's images as {given}; "
                    "a model of other images declares them: image_size=SIDE for a folder: data set, "
                    "inputs='flat' for flat pixels)"
                ) from error
            mu, logvar = posterior.mu, posterior.logvar
            if mu.ndim != 2 or mu.shape[0] != images.shape[0] or logvar.shape != mu.shape:
                raise ValueError(
                    f"encode gave mu {list(mu.shape)} and logvar {list(logvar.shape)} for "
                    f"{images.shape[0]} images: both must be [{images.shape[0]}, latent size]"
                )
            if self.declared.latent_dim is not None and mu.shape[1] != self.declared.latent_dim:
                raise ValueError(
                    f"encode gave {mu.shape[1]} latent dimensions, latent_dim says {self.declared.latent_dim}"
                )
            if mu.shape[1] < 2:
                raise ValueError(f"the latent space has {mu.shape[1]} dimension: the map needs at least 2")
            if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all()):
                raise ValueError("encode gave a mu or logvar that is not finite (NaN or inf)")
            self._latent_dim = int(mu.shape[1])
            if len(self._latent_shape) == 1:
                self._latent_shape = (self._latent_dim,)
            if parameters and mu.requires_grad:
                grads = torch.autograd.grad(mu.sum() + logvar.sum(), parameters, allow_unused=True)
                self._encoder_parameters = [
                    p for p, g in zip(parameters, grads, strict=True) if g is not None
                ]
        return mu.detach()

    def _check_decoded(self, raw: Any) -> None:
        try:
            output = _read_output(raw)
        except TypeError as error:
            raise ValueError(str(error)) from error
        if self.declared.likelihood is None and output.family is not None:
            self._likelihood = likelihood_of(output.family)  # as the distribution it gives names it
        self._check_family(output)
        values, name = output.values, self._likelihood.name
        rows = values.shape[0] if values.ndim else 0
        stacked = self._likelihood.outputs_per_value == 2 and output.log_scale is None
        expected = self.pixels * (2 if stacked else 1)
        if values.ndim < 2 or values[0].numel() != expected:
            c, h, w = self.image_shape
            c = 2 * c if stacked else c
            raise ValueError(
                f"decode gave {list(values.shape)}: it must give [B, {c}, {h}, {w}] or [B, {expected}] "
                f"for the data set's images" + (" (means and log-scales stacked)" if stacked else "")
            )
        if not torch.isfinite(values).all():
            raise ValueError(f"decode gave values that are not finite (NaN or inf) for {rows} latent points")
        if name not in _FROM_LOGITS or output.family is not None:
            return
        low, high = float(values.min()), float(values.max())
        means = self.values.from_model(values.reshape(rows, -1))
        if self.declared.decodes == "means" and (float(means.min()) < 0 or float(means.max()) > 1):
            raise ValueError(
                f"decode gave values in [{low:.3g}, {high:.3g}], declared as pixel means in "
                f"{self.values.described}: if they are logits, declare decodes='logits'"
            )
        if self.declared.decodes == "logits" and low >= 0 and high <= 1:
            raise ValueError(
                f"decode gave values in [{low:.3g}, {high:.3g}], declared as Bernoulli logits: these look "
                f"like pixel means, so declare decodes='means'"
            )

    @torch.no_grad()
    def _fit_scale(self, images: torch.Tensor) -> FittedScale:
        """sigma^2 = E_x E_q ||x - mean(z)||^2 / (C*H*W): where the ELBO's derivative in sigma vanishes."""
        generator = torch.Generator(device=images.device).manual_seed(0)
        squared = torch.zeros((), dtype=torch.float64)
        for batch in images.split(CHECK_BATCH):
            z = self.encode(batch).sample(generator)
            squared += (batch - self.decode(z)).pow(2).sum().double().cpu()
        sigma = math.sqrt(float(squared) / images.numel())
        if not sigma > 0:
            raise ValueError("the decoder reconstructs its images exactly: declare the gaussian's scale")
        return FittedScale(sigma, len(images))

    @staticmethod
    def _call(name: str, function: Callable[[torch.Tensor], Any], x: torch.Tensor) -> Any:
        """function(x), its exceptions one ValueError naming the method."""
        try:
            return function(x)
        except Exception as error:
            raise ValueError(f"{name} raised {type(error).__name__}: {error}") from error

    def fingerprint(self) -> str:
        """Of the weights (parameters and buffers) and how its outputs are read: a cached evaluation is reused
        only for the same ones."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.network.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        digest.update(repr((self._likelihood.spec(), self.values)).encode())
        return digest.hexdigest()[:16]


def declared_of(network: nn.Module, **declarations: Any) -> Declared:
    """Each declaration from the keywords, else the module's attribute of the same name, else its default;
    ValueError naming a declaration whose value cannot be right."""
    unknown = sorted(set(declarations) - set(DECLARATIONS))
    if unknown:
        raise TypeError(f"unknown declaration {', '.join(unknown)}: use {', '.join(DECLARATIONS)}")

    by_library = library_declarations(network)

    def value(name: str, default: Any = None) -> Any:
        given = declarations.get(name)
        if given is not None:
            return given
        attribute = getattr(network, name, None)  # a layer or a method of that name is no declaration
        if attribute is None or isinstance(attribute, nn.Module | torch.Tensor):
            return by_library.get(name, default)
        return attribute

    decodes, inputs = value("decodes", "logits"), value("inputs", "images")
    if decodes not in get_args(Decodes):
        raise ValueError(f"decodes must be 'logits' or 'means', got {decodes!r}")
    if inputs not in get_args(Inputs):
        raise ValueError(f"inputs must be 'images' or 'flat', got {inputs!r}")
    latent_dim = value("latent_dim")
    if latent_dim is not None and (not isinstance(latent_dim, int) or latent_dim < 2):
        raise ValueError(f"latent_dim must be an int >= 2, got {latent_dim!r}")
    dataset = value("dataset")
    if dataset is not None and not isinstance(dataset, str):
        raise ValueError(f"dataset must be a data set's name or folder:PATH, got {dataset!r}")
    names = value("class_names")
    image_size = value("image_size")
    if image_size is not None and (
        not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 8
    ):
        raise ValueError(f"image_size must be a side in pixels >= 8, got {image_size!r}")
    likelihood, scale = value("likelihood"), value("likelihood_scale")
    if likelihood is not None and likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {likelihood!r}")
    if scale is not None:
        if likelihood != "gaussian":
            raise ValueError("likelihood_scale is a gaussian's sigma: declare likelihood='gaussian' with it")
        likelihood_of("gaussian", scale)  # a scale that cannot be fails here, naming it
    value_range, normalization = value("value_range"), value("normalization")
    if value_range is not None and normalization is not None:
        raise ValueError("declare value_range or normalization, not both")
    if value_range is not None:
        value_range = _pair("value_range", value_range)
        ValueRange.interval(*value_range, 1)
    if normalization is not None:
        mean, std = _pair("normalization", normalization)
        normalization = (_numbers(mean), _numbers(std))
    return Declared(
        dataset=dataset,
        image_size=image_size,
        likelihood=likelihood,
        likelihood_scale=scale,
        value_range=value_range,
        normalization=normalization,
        decodes=decodes,
        inputs=inputs,
        latent_dim=latent_dim,
        title=value("title"),
        class_names=None if names is None else tuple(str(name) for name in names),
    )


def _pair(name: str, given: Any) -> tuple[Any, Any]:
    if not isinstance(given, tuple | list) or len(given) != 2:
        raise ValueError(f"{name} must be a pair, got {given!r}")
    return given[0], given[1]


def _numbers(given: Any) -> tuple[float, ...]:
    """One number or a sequence of them (a mean or std per channel) as a tuple of floats."""
    listed = list(given) if isinstance(given, tuple | list) else [given]
    if not listed or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in listed):
        raise ValueError(f"normalization needs a number or one per channel, got {given!r}")
    return tuple(float(v) for v in listed)


@dataclass(frozen=True)
class Wrapped:
    """A user's model with its declarations, before it meets its data set (`wrap`'s result)."""

    network: nn.Module
    declared: Declared
    encode: Callable[[torch.Tensor], Any] | None = None
    decode: Callable[[torch.Tensor], Any] | None = None

    def adapt(self, image_shape: tuple[int, int, int], device: torch.device) -> OutsideVAE:
        """The model on `device` in eval mode, behind the atlas's interface (not yet checked)."""
        self.network.to(device).eval()
        return OutsideVAE(self.network, self.declared, image_shape, encode=self.encode, decode=self.decode)


def wrap(
    network: nn.Module | Wrapped,
    *,
    encode: Callable[[torch.Tensor], Any] | None = None,
    decode: Callable[[torch.Tensor], Any] | None = None,
    **declarations: Any,
) -> Wrapped:
    """Declare what the atlas must know of `network` (see the module's docstring): dataset (with image_size,
    the side a folder: data set is prepared at), likelihood (one of model.likelihoods.LIKELIHOODS) and
    likelihood_scale (a gaussian's sigma in the model's values), decodes ("logits" or "means"), value_range
    ((-1, 1)) or normalization ((mean, std), each one number or one per channel), inputs ("images" or
    "flat"), latent_dim, title, class_names. `encode` and `decode` replace the module's methods of those
    names."""
    if isinstance(network, Wrapped):  # declared again: the new declarations win, the old ones stay
        kept = {name: value for name, value in asdict(network.declared).items() if value is not None}
        declarations = {**kept, **{name: value for name, value in declarations.items() if value is not None}}
        encode, decode = encode or network.encode, decode or network.decode
        network = network.network
    if not isinstance(network, nn.Module):
        raise TypeError(f"a model must be a torch.nn.Module, got {type(network).__name__}")
    return Wrapped(network, declared_of(network, **declarations), encode, decode)
