import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.checkpoint import (
    CHECKPOINT_FILES,
    CONFIG_FILE,
    TRAINING_STATE_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    load_history,
    load_info,
    load_latents,
    load_network,
    load_training_state,
)
from model.config import ModelConfig, TrainConfig
from model.inference import LoadedModel
from model.sources import characters
from model.train import train
from tests.conftest import TINY_MODEL, TINY_TEST, TINY_TRAINING


def _copy(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / folder.name
    copy.mkdir()
    for file in folder.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    return copy


def test_folder_holds_exactly_the_documented_files(tiny_model: Path) -> None:
    assert sorted(p.name for p in tiny_model.iterdir()) == sorted(CHECKPOINT_FILES)
    assert not list(tiny_model.parent.glob(".*")), "no staging or backup folder is left behind"


def test_round_trip_restores_every_tensor_and_the_config(tiny_model: Path) -> None:
    info, network = load_network(tiny_model)
    saved = load_file(str(tiny_model / WEIGHTS_FILE))
    state = network.state_dict()
    assert saved.keys() == state.keys()
    for name, tensor in saved.items():
        assert torch.equal(tensor, state[name]), name
    assert info.model_config == TINY_MODEL and info.train_config == TINY_TRAINING
    assert info.model_id == "tiny-2d" and info.epochs_completed == 2
    assert info.data["train_size"] == 2_000 and len(info.data["train_sha256"]) == 16
    assert info.metrics["neg_elbo"] == pytest.approx(info.metrics["reconstruction_nll"] + info.metrics["kl"])
    assert [record["epoch"] for record in load_history(tiny_model)] == [1, 2]
    latents = load_latents(tiny_model)
    assert latents.indices.shape == (TINY_TEST,) and latents.mu.shape == (2, TINY_TEST, 2)
    assert latents.epochs.tolist() == [1, 2]
    assert load_training_state(tiny_model).optimizer["state"], "Adam moments are kept for --resume"


def test_truncated_weights_give_an_error_naming_the_file(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path)
    weights = folder / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=rf"{folder}: model\.safetensors is truncated or corrupt"):
        load_network(folder)


def test_corrupt_config_gives_an_error_naming_the_file(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path)
    (folder / CONFIG_FILE).write_text('{"format_version": 1, "id": "tiny')
    with pytest.raises(CheckpointError, match=r"config\.json is truncated or corrupt"):
        load_info(folder)


def test_missing_weights_are_named(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path)
    (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors is missing"):
        load_network(folder)


def test_architecture_mismatch_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path)
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["model"]["latent_dim"] = 16
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(
        CheckpointError, match=r"model\.safetensors does not match the architecture in config\.json"
    ):
        load_network(folder)


def test_newer_format_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path)
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["format_version"] = 99
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="format_version 99"):
        load_info(folder)


class _RunsCode:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this must never run",))


def test_training_state_never_unpickles_code(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path)
    (folder / TRAINING_STATE_FILE).write_bytes(pickle.dumps({"optimizer": _RunsCode()}))
    with pytest.raises(CheckpointError, match=r"training_state\.pt is truncated or corrupt"):
        load_training_state(folder)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_info(tmp_path / "nope")


def test_a_checkpoint_records_its_data_set_and_loads_it_back(tmp_path: Path) -> None:
    dataset = characters.build(train_per_class=3, test_per_class=1)
    folder = tmp_path / "glyphs-2d"
    train(
        folder,
        model_id="glyphs-2d",
        title="glyphs",
        model_config=ModelConfig(latent_dim=2, hidden=(16,)),
        config=TrainConfig(epochs=1, batch_size=52, device="cpu"),
        dataset=dataset,
        progress=False,
    )
    info = load_info(folder)
    assert info.dataset == dataset.info and info.data["train_sha256"] == dataset.train.fingerprint()
    assert LoadedModel.load(folder, "cpu").dataset.class_names == characters.CLASSES
    with pytest.raises(
        ValueError, match=r"the model is for \(3, 32, 32\) images, characters has \(1, 28, 28\)"
    ):
        train(
            tmp_path / "wrong",
            model_id="wrong",
            title="wrong",
            model_config=ModelConfig(latent_dim=2, image_shape=(3, 32, 32)),
            config=TrainConfig(epochs=1, device="cpu"),
            dataset=dataset,
            progress=False,
        )
