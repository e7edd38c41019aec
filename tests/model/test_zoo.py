import pytest

from model.config import TrainConfig
from model.data import DatasetInfo
from model.home import check_model_id
from model.sources import sprites
from model.zoo import BETA_SWEEP, DEFAULT_ZOO, QUICK_EPOCHS, sweep_ids, sweep_model_id, zoo_entries


def test_the_beta_sweep_reuses_the_default_2d_models_at_its_ends() -> None:
    assert sweep_model_id(0.0) == "recon-2d" and sweep_model_id(1.0) == "full-2d"
    assert sweep_model_id(0.5) == "beta-0p5-2d" and sweep_model_id(8.0) == "beta-8-2d"
    assert sweep_ids()[-1] == "kl-2d" and len(sweep_ids()) == len(BETA_SWEEP) + 1
    assert all(check_model_id(model_id) for model_id in sweep_ids())


def test_the_beta_zoo_trains_each_beta_like_full_2d() -> None:
    entries = {entry.model_id: entry for entry in zoo_entries(zoo="beta", device="cpu")}
    full = next(entry for entry in DEFAULT_ZOO if entry.model_id == "full-2d")
    assert set(entries) == set(sweep_ids())
    for beta in (0.1, 0.5, 2.0, 4.0, 8.0):
        entry = entries[sweep_model_id(beta)]
        assert entry.model_config == full.model_config
        assert entry.train_config.loss == "beta" and entry.train_config.kl_weight == beta
        assert entry.train_config.epochs == full.train_config.epochs and isinstance(
            entry.train_config, TrainConfig
        )


def test_a_data_set_zoo_takes_as_many_steps_as_mnists_with_its_own_shape_and_ids() -> None:
    mnist = {entry.model_id: entry for entry in zoo_entries(device="cpu")}
    photos = DatasetInfo(
        key="folder-photos-1a2b3c4d",
        title="photos",
        image_shape=(3, 32, 32),
        class_names=("cat", "dog"),
        preprocessing="resize",
    )
    small = {entry.model_id: entry for entry in zoo_entries(dataset=photos, train_size=2_500, device="cpu")}
    assert set(small) == {f"folder-photos-1a2b3c4d-{model_id}" for model_id in mnist}
    for model_id, entry in mnist.items():
        scaled = small[f"folder-photos-1a2b3c4d-{model_id}"]
        assert scaled.model_config.image_shape == (3, 32, 32)
        assert scaled.train_config.epochs == entry.train_config.epochs * 24  # 60,000 / 2,500 images
    bigger = zoo_entries(dataset=photos, train_size=120_000, device="cpu")
    assert [e.train_config.epochs for e in bigger] == [e.train_config.epochs for e in mnist.values()]
    million = zoo_entries(dataset=photos, train_size=1_000_012, device="cpu")
    for entry, recipe in zip(million, mnist.values(), strict=True):  # MNIST's steps, at least one epoch
        assert entry.train_config.epochs == max(1, round(recipe.train_config.epochs * 60_000 / 1_000_012))
    quick = zoo_entries(dataset=photos, train_size=2_500, device="cpu", quick=True)
    assert {e.train_config.epochs for e in quick} == {QUICK_EPOCHS}


def test_the_disentanglement_zoo_is_four_objectives_by_three_seeds_on_known_factors() -> None:
    small = sprites.build(sprites.SMALL).info
    entries = zoo_entries(zoo="disentanglement", dataset=small, train_size=4_108, device="cpu")
    by_id = {entry.model_id: entry for entry in entries}
    assert len(by_id) == 12 and all(check_model_id(model_id) for model_id in by_id)
    runs = {(e.train_config.loss, e.train_config.beta, e.train_config.seed) for e in entries}
    assert runs == {
        (loss, beta, seed)
        for loss, beta in (("full", 1.0), ("beta", 4.0), ("tcvae", 6.0), ("factorvae", 31.0))
        for seed in (0, 1, 2)
    }
    tcvae = by_id["sprites-small-tcvae6-10d-s2"]
    assert tcvae.title == "beta-TCVAE, beta = 6, 10-D latent, seed 2"
    assert tcvae.model_config.latent_dim == 10 and tcvae.model_config.image_shape == (1, 64, 64)
    assert by_id["sprites-small-factorvae30-10d-s0"].title == "FactorVAE, gamma = 30, 10-D latent, seed 0"
    # On the full grid's 727,280 training images the recipe's 24 MNIST epochs of steps are 2 passes.
    full = zoo_entries(zoo="disentanglement", dataset=small, train_size=727_280, device="cpu")
    assert {entry.train_config.epochs for entry in full} == {2}
    with pytest.raises(
        ValueError, match=r"needs a data set of known factors \(sprites\); MNIST handwritten digits has none"
    ):
        zoo_entries(zoo="disentanglement")
