import itertools
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model import checkpoint
from model.checkpoint import WEIGHTS_FILE, load_history, load_info, load_latents
from model.data import Dataset, ImageSet
from model.metrics import elbo_metrics
from model.train import snapshot_epochs, train
from model.vae import VAE
from tests.conftest import TINY_MODEL, TINY_TEST, TINY_TRAINING, train_tiny


def test_two_epochs_on_a_fixed_slice_lower_the_test_loss(tiny_model: Path, test_set: ImageSet) -> None:
    torch.manual_seed(TINY_TRAINING.seed)
    untrained = elbo_metrics(VAE(TINY_MODEL), test_set.head(TINY_TEST).pixels()).neg_elbo
    history = load_history(tiny_model)
    after_one, after_two = history[0]["test_neg_elbo"], history[1]["test_neg_elbo"]
    assert after_two < after_one < untrained - 200, (untrained, after_one, after_two)


def test_resumed_run_ends_with_the_same_weights(tiny_model: Path, tmp_path: Path, mnist: Dataset) -> None:
    folder = tmp_path / "resumed"
    train_tiny(folder, mnist, epochs=1)
    assert load_info(folder).epochs_completed == 1
    train_tiny(folder, mnist, epochs=2)
    resumed, straight = load_file(str(folder / WEIGHTS_FILE)), load_file(str(tiny_model / WEIGHTS_FILE))
    assert resumed.keys() == straight.keys()
    for name in straight:
        assert torch.equal(resumed[name], straight[name]), name
    timing = {"seconds", "images_per_second"}
    metrics = [{k: v for k, v in record.items() if k not in timing} for record in load_history(folder)]
    assert metrics == [
        {k: v for k, v in record.items() if k not in timing} for record in load_history(tiny_model)
    ]


@pytest.mark.parametrize("limit", [4, 7, 200])
def test_a_long_run_keeps_evenly_spaced_snapshots_the_first_and_the_last(limit: int) -> None:
    for latest in range(1, 3281):
        kept = snapshot_epochs(latest, limit)
        assert len(kept) <= limit and kept[0] == 1 and kept[-1] == latest, (latest, kept)
        assert kept == list(range(1, latest + 1)) or latest > limit, (latest, kept)
        gaps = {after - before for before, after in itertools.pairwise(kept[1:-1])}
        assert len(gaps) <= 1, (latest, kept)  # between the first and the last, one stride
        # each epoch kept now was kept before it (or is new): thinning never needs a dropped one back
        assert set(kept) <= set(snapshot_epochs(latest - 1, limit)) | {latest} or latest == 1


def test_snapshots_thinned_by_a_resumed_run_are_those_of_a_straight_one(
    tmp_path: Path, mnist: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("model.train.MAX_SNAPSHOTS", 4)
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_tiny(straight, mnist, epochs=6)
    train_tiny(resumed, mnist, epochs=3)
    train_tiny(resumed, mnist, epochs=6)
    expected = load_latents(straight)
    assert expected.epochs.tolist() == snapshot_epochs(6, 4) == [1, 2, 4, 6]
    assert expected.mu.shape == (4, TINY_TEST, 2)
    got = load_latents(resumed)
    assert torch.equal(got.epochs, expected.epochs) and torch.equal(got.mu, expected.mu)


def test_interrupt_during_a_save_keeps_the_last_complete_checkpoint(
    tmp_path: Path, mnist: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "interrupted"
    train_tiny(folder, mnist, epochs=1)
    epoch_one = (folder / WEIGHTS_FILE).read_bytes()

    real_save_file = checkpoint.save_file

    def save_then_interrupt(tensors: dict[str, torch.Tensor], path: str, **kwargs: object) -> None:
        real_save_file(tensors, path, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # Ctrl-C halfway through writing the epoch-2 checkpoint

    monkeypatch.setattr(checkpoint, "save_file", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_tiny(folder, mnist, epochs=2)
    monkeypatch.undo()

    assert load_info(folder).epochs_completed == 1
    assert (folder / WEIGHTS_FILE).read_bytes() == epoch_one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["interrupted"], "no staging folder left behind"
    train_tiny(folder, mnist, epochs=2)
    assert load_info(folder).epochs_completed == 2


def test_training_into_an_existing_folder_needs_resume(tiny_model: Path, mnist: Dataset) -> None:
    with pytest.raises(ValueError, match="already holds a model: pass --resume"):
        train(
            tiny_model,
            model_id="tiny-2d",
            title="Tiny",
            model_config=TINY_MODEL,
            config=TINY_TRAINING,
            dataset=mnist,
        )


def test_resume_refuses_a_changed_config(tiny_model: Path, mnist: Dataset) -> None:
    with pytest.raises(ValueError, match="only the number of epochs and the device may change"):
        train(
            tiny_model,
            model_id="tiny-2d",
            title="Tiny",
            model_config=TINY_MODEL,
            config=replace(TINY_TRAINING, lr=0.1, epochs=3),
            dataset=mnist,
            resume=True,
        )
