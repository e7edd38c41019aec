from pathlib import Path

import pytest
import torch

from model.data import ImageSet
from model.inference import LoadedModel, interpolate_latents


@pytest.fixture(scope="module")
def loaded(tiny_model: Path) -> LoadedModel:
    return LoadedModel.load(tiny_model, device="cpu")


def test_encode_then_decode_mu_is_the_reconstruction(loaded: LoadedModel, test_set: ImageSet) -> None:
    images = test_set.images[:16].float() / 255
    mu, sigma = loaded.encode(images)
    assert mu.shape == sigma.shape == (16, 2) and bool((sigma > 0).all())
    decoded = loaded.decode(mu)
    assert decoded.shape == (16, 1, 28, 28) and decoded.min() >= 0 and decoded.max() <= 1
    assert torch.equal(decoded, loaded.reconstruct(images))


def test_reconstructions_are_closer_to_their_own_digit(loaded: LoadedModel, test_set: ImageSet) -> None:
    images = test_set.images[:64].float() / 255
    reconstructions = loaded.reconstruct(images)
    distances = torch.cdist(reconstructions.reshape(64, -1), images.reshape(64, -1))
    own = distances.diagonal()
    shuffled = distances.roll(1, dims=1).diagonal()
    assert own.mean() < shuffled.mean()


def test_samples_are_seeded(loaded: LoadedModel) -> None:
    z_a, images_a = loaded.sample(8, seed=3)
    z_b, images_b = loaded.sample(8, seed=3)
    z_c, _ = loaded.sample(8, seed=4)
    assert torch.equal(z_a, z_b) and torch.equal(images_a, images_b) and not torch.equal(z_a, z_c)
    z_cold, _ = loaded.sample(8, seed=3, temperature=0.5)
    assert torch.allclose(z_cold, 0.5 * z_a)


def test_decode_rejects_a_wrong_latent_length(loaded: LoadedModel) -> None:
    with pytest.raises(ValueError, match=r"z must have shape \[B, 2\], got \[1, 3\]"):
        loaded.decode(torch.zeros(1, 3))


def test_linear_interpolation_hits_both_endpoints() -> None:
    z0, z1 = torch.tensor([1.0, -2.0]), torch.tensor([-3.0, 0.5])
    path = interpolate_latents(z0, z1, 5, "linear")
    assert path.shape == (5, 2)
    assert torch.equal(path[0], z0) and torch.allclose(path[-1], z1)
    assert torch.allclose(path[2], (z0 + z1) / 2)


def test_slerp_moves_the_norm_linearly_and_turns_the_direction() -> None:
    z0, z1 = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])
    path = interpolate_latents(z0, z1, 9, "slerp")
    assert torch.allclose(path[0], z0, atol=1e-6) and torch.allclose(path[-1], z1, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.linspace(3.0, 1.0, 9), atol=1e-5)
    # The direction turns at a constant rate: 90 degrees in 8 equal steps.
    angles = torch.atan2(path[:, 2] / path.norm(dim=1), path[:, 0] / path.norm(dim=1))
    assert torch.allclose(angles.diff(), torch.full((8,), torch.pi / 16), atol=1e-5)


def test_slerp_of_equal_norms_keeps_the_norm() -> None:
    z0, z1 = torch.tensor([2.0, 0.0]), torch.tensor([-1.2, 1.6])
    path = interpolate_latents(z0, z1, 7, "slerp")
    assert torch.allclose(path.norm(dim=1), torch.full((7,), 2.0), atol=1e-5)
    linear_mid = interpolate_latents(z0, z1, 7, "linear")[3].norm()
    assert linear_mid < 1.5  # the straight line dips towards the origin


@pytest.mark.parametrize(
    ("steps", "method", "message"), [(1, "linear", "steps must be >= 2"), (4, "cubic", "method must be")]
)
def test_interpolation_rejects_bad_arguments(steps: int, method: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        interpolate_latents(torch.zeros(2), torch.ones(2), steps, method)  # type: ignore[arg-type]


def test_importance_weighted_bound_lies_above_the_elbo_and_rises_with_k(
    loaded: LoadedModel, test_set: ImageSet
) -> None:
    from model.metrics import elbo_metrics, importance_weighted_log_likelihood

    x = test_set.head(1000).pixels()
    elbo = -elbo_metrics(loaded.network, x, samples=50).neg_elbo
    bounds = [importance_weighted_log_likelihood(loaded.network, x, k=k, seed=1) for k in (1, 10, 100)]
    assert bounds[0] == pytest.approx(elbo, abs=2.0)  # k = 1 is a one-sample ELBO estimate
    assert elbo < bounds[1] < bounds[2], (elbo, bounds)
