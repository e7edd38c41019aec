"""Recipes from the literature: a model and its training as a paper describes them, so that its numbers can
be checked against ours (`latent-atlas train MODEL_ID --preset NAME`)."""

from __future__ import annotations

from dataclasses import dataclass

from model.config import ModelConfig, TrainConfig


@dataclass(frozen=True)
class Preset:
    model_config: ModelConfig
    train_config: TrainConfig
    source: str  # where the recipe is written down


# Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders" (ICLR 2016), Sec. 5 and Table 1: one
# stochastic layer, 784-200-200-50 with tanh units, Glorot-initialised, Bernoulli decoder; Adam (beta1 0.9,
# beta2 0.999, epsilon 1e-4) on minibatches of 20, 3^i passes at 1e-3 * 10^(-i/7) for i = 0..7. Trained as a
# VAE (k = 1) it reaches log p(x) = -86.76 nats at k = 5,000 on binarized MNIST; as an IWAE with k = 50,
# -84.78.
IWAE_PAPER = Preset(
    model_config=ModelConfig(latent_dim=50, hidden=(200, 200), activation="tanh", init="glorot"),
    train_config=TrainConfig(
        epochs=3280, batch_size=20, lr=1e-3, lr_schedule="iwae-paper", adam_eps=1e-4, binarized=True
    ),
    source="Burda et al. (2016), Importance Weighted Autoencoders, Sec. 5",
)

PRESETS: dict[str, Preset] = {"iwae-paper-vae": IWAE_PAPER}
