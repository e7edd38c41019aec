"""Bring your own model: a VAE built by the user's own code, served and evaluated like one trained here.

The protocol an outside model offers, kept small (`wrap` adapts the rest):
  encode(x)  images x in [0, 1], [B, C, H, W] (or [B, C*H*W] with inputs="flat") -> the Gaussian
             posterior q(z|x): a (mu, logvar) pair of [B, D] tensors, a torch.distributions.Normal (or an
             Independent one), or any object (or dict) with mu/logvar, mean/logvar, mean/stddev or
             loc/scale; diffusers' output with a `latent_dist` is unwrapped.
  decode(z)  z: [B, D] -> p(x|z) for every pixel, [B, C, H, W] or [B, C*H*W]: Bernoulli logits
             (decodes="logits") or pixel means in [0, 1] (decodes="means"), or a Bernoulli distribution.
  declared   the data set it was trained on (a registry name or folder:PATH) and, optionally, its latent
             size (checked), a title and class names.
Each declaration is a keyword of `wrap`, else an attribute of the same name on the module, else its
default: a module that carries `dataset = "mnist"` and `decodes = "means"` needs no keywords.

`check` runs one batch of the data set through encode and decode when the model loads, so a model that
cannot be served fails at start-up with one message naming the problem, never on a visitor's request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import torch
from torch import distributions, nn

from model.vae import DiagonalGaussian, LatentModel

Decodes = Literal["logits", "means"]
Inputs = Literal["images", "flat"]
DECLARATIONS = ("dataset", "decodes", "inputs", "latent_dim", "title", "class_names")
CHECK_BATCH = 64  # test images through encode and decode at load
# Float32 keeps 2^-24 of resolution below 1: a saturated sigmoid's 0 or 1 is read as this close to it.
MEANS_EPSILON = 2.0**-24
_POSTERIOR_FIELDS = (("mu", "logvar"), ("mean", "logvar"), ("mean", "stddev"), ("loc", "scale"))


@dataclass(frozen=True)
class Declared:
    """What an outside model declares about itself."""

    dataset: str | None
    decodes: Decodes
    inputs: Inputs
    latent_dim: int | None
    title: str | None
    class_names: tuple[str, ...] | None


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
            logvar = spread if second == "logvar" else 2 * spread.log()
            return DiagonalGaussian(centre, logvar)
    raise TypeError(
        f"encode returned {type(posterior).__name__}: return (mu, logvar), a torch.distributions.Normal, "
        "or an object with mu and logvar (or mean and stddev)"
    )


def _field(container: Any, name: str) -> Any:
    return container.get(name) if isinstance(container, dict) else getattr(container, name, None)


def _tensor_output(output: Any) -> tuple[torch.Tensor, bool]:
    """A decoder's output -> (values, whether they are logits whatever was declared)."""
    if isinstance(output, distributions.Independent):
        output = output.base_dist
    if isinstance(output, distributions.Bernoulli):
        return output.logits, True
    if isinstance(output, torch.Tensor):
        return output, False
    raise TypeError(f"decode returned {type(output).__name__}: return a tensor of logits or pixel means")


class OutsideVAE(LatentModel):
    """A user's module behind the interface the atlas computes with: encode -> DiagonalGaussian over
    flat [B, C*H*W] pixels, decode -> Bernoulli logits [..., C*H*W]."""

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
        self._encode = self._method(network, "encode", encode)
        self._decode = self._method(network, "decode", decode)
        self._latent_dim = declared.latent_dim or 0  # set from the first encoding when not declared
        self._encoder_parameters: list[nn.Parameter] = []

    @staticmethod
    def _method(
        network: nn.Module, name: str, given: Callable[[torch.Tensor], Any] | None
    ) -> Callable[[torch.Tensor], Any]:
        function = given or getattr(network, name, None)
        if not callable(function):
            raise TypeError(f"{type(network).__name__} has no {name} method: pass {name}= to wrap()")
        return function

    @property
    def latent_dim(self) -> int:
        return self._latent_dim

    @property
    def pixels(self) -> int:
        channels, height, width = self.image_shape
        return channels * height * width

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        shape = (self.pixels,) if self.declared.inputs == "flat" else self.image_shape
        return _gaussian(self._encode(x.reshape(x.shape[0], *shape)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        values, logits = _tensor_output(self._decode(z.reshape(-1, z.shape[-1])))
        values = values.reshape(*z.shape[:-1], self.pixels)
        if logits or self.declared.decodes == "logits":
            return values
        means = values.clamp(MEANS_EPSILON, 1 - MEANS_EPSILON)
        return torch.log(means) - torch.log1p(-means)

    def encoder_parameters(self) -> list[nn.Parameter]:
        return self._encoder_parameters

    def check(self, images: torch.Tensor) -> None:
        """Run images [B, C*H*W] through encode and decode; ValueError naming the first problem. Sets the
        latent size when it was not declared, and finds the weights q(z|x) depends on."""
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
                self._check_decoded(self._call("decode", self._decode, z))

    def _check_encoded(self, images: torch.Tensor, parameters: list[nn.Parameter]) -> torch.Tensor:
        """The posterior means of `images` once their shapes and values are checked."""
        with torch.enable_grad():
            posterior: DiagonalGaussian = self._call("encode", self.encode, images)
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
            if parameters and mu.requires_grad:
                grads = torch.autograd.grad(mu.sum() + logvar.sum(), parameters, allow_unused=True)
                self._encoder_parameters = [
                    p for p, g in zip(parameters, grads, strict=True) if g is not None
                ]
        return mu.detach()

    def _check_decoded(self, output: Any) -> None:
        values, logits = _tensor_output(output)
        rows = values.shape[0] if values.ndim else 0
        if values.ndim < 2 or values[0].numel() != self.pixels:
            c, h, w = self.image_shape
            raise ValueError(
                f"decode gave {list(values.shape)}: it must give [B, {c}, {h}, {w}] or [B, {self.pixels}] "
                f"for the data set's images"
            )
        if not torch.isfinite(values).all():
            raise ValueError(f"decode gave values that are not finite (NaN or inf) for {rows} latent points")
        low, high = float(values.min()), float(values.max())
        if self.declared.decodes == "means" and not logits and (low < 0 or high > 1):
            raise ValueError(
                f"decode gave values in [{low:.3g}, {high:.3g}], declared as pixel means in [0, 1]: "
                f"if they are logits, declare decodes='logits'"
            )
        if self.declared.decodes == "logits" and not logits and low >= 0 and high <= 1:
            raise ValueError(
                f"decode gave values in [{low:.3g}, {high:.3g}], declared as Bernoulli logits: these look "
                f"like pixel means, so declare decodes='means'"
            )

    @staticmethod
    def _call(name: str, function: Callable[[torch.Tensor], Any], x: torch.Tensor) -> Any:
        try:
            return function(x)
        except Exception as error:
            raise ValueError(f"{name} raised {type(error).__name__}: {error}") from error

    def fingerprint(self) -> str:
        """Of the weights (parameters and buffers): a cached evaluation is reused only for the same ones."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.network.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        return digest.hexdigest()[:16]


def declared_of(network: nn.Module, **declarations: Any) -> Declared:
    """Each declaration from the keywords, else the module's attribute of the same name, else its default;
    ValueError naming a declaration whose value cannot be right."""
    unknown = sorted(set(declarations) - set(DECLARATIONS))
    if unknown:
        raise TypeError(f"unknown declaration {', '.join(unknown)}: use {', '.join(DECLARATIONS)}")

    def value(name: str, default: Any = None) -> Any:
        given = declarations.get(name)
        return given if given is not None else getattr(network, name, default)

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
    return Declared(
        dataset=dataset,
        decodes=decodes,
        inputs=inputs,
        latent_dim=latent_dim,
        title=value("title"),
        class_names=None if names is None else tuple(str(name) for name in names),
    )


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
    """Declare what the atlas must know of `network` (see the module's docstring): dataset, decodes
    ("logits" or "means"), inputs ("images" or "flat"), latent_dim, title, class_names. `encode` and
    `decode` replace the module's methods of those names."""
    if isinstance(network, Wrapped):  # declared again: the new declarations win, the old ones stay
        kept = {name: value for name, value in asdict(network.declared).items() if value is not None}
        declarations = {**kept, **{name: value for name, value in declarations.items() if value is not None}}
        encode, decode = encode or network.encode, decode or network.decode
        network = network.network
    if not isinstance(network, nn.Module):
        raise TypeError(f"a model must be a torch.nn.Module, got {type(network).__name__}")
    return Wrapped(network, declared_of(network, **declarations), encode, decode)
