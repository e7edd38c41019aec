"""Session fixtures: one temporary LATENT_ATLAS_HOME, real MNIST in it, small real models trained in it,
and a live server over them, so tests never touch the user's own data or models. What is fetched or
trained comes from the fixture cache (tests/fixture_cache.py): made once, copied into each run's home."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest
import torch
import uvicorn
from hypothesis import HealthCheck, settings

from app.job_runner import JobProcess
from app.limits import MAX_POINTS
from app.main import create_app
from app.settings import Settings
from model.checkpoint import load_network
from model.config import ModelConfig, TrainConfig
from model.data import Dataset, ImageSet, save_prepared
from model.datasets import open_dataset
from model.disentanglement import DisentanglementSettings
from model.evaluation import EvaluationSettings
from model.home import HOME_ENV, classifier_folder, data_root, models_root
from model.sources import characters, sprites
from model.train import train
from model.zoo import classifier_config, train_zoo, zoo_entries
from tests.fixture_cache import MODEL_SOURCES, SUITE_THREADS, cached, copy_tree

# Property tests draw the same examples every run (a failure in CI fails the same way here), few of them
# while working and the full count where CI=true (.ci/run sets it).
FULL_RUN = os.environ.get("CI") == "true"
settings.register_profile(
    "atlas", deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
settings.load_profile("atlas")

# pytest-xdist runs the suite in one process per core (make test, make check): each takes its share of the
# cores' threads, as the side-by-side trainings do, so two workers do not fight over both cores.
torch.set_num_threads(SUITE_THREADS)


@pytest.fixture(autouse=True)
def suite_threads() -> Iterator[None]:
    """Each test starts with the suite's torch threads, whatever the one before set."""
    yield
    torch.set_num_threads(SUITE_THREADS)


@pytest.hookimpl(trylast=True)  # after tests/browser/ has marked its tests
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests (browser, processes of their own) first, so that the workers end together: the
    short ones fill in at the end instead of one worker finishing a long file alone."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is None and item.get_closest_marker("slow") is None
        )
    )


Case = TypeVar("Case")


def examples(full: int) -> int:
    """How many examples a property test draws: `full` in CI, a fifth of it (at least 5) while working."""
    return full if FULL_RUN else max(5, full // 5)


def swept(cases: list[Case]) -> list[Case]:
    """Which of a sweep's listed cases are sent: all of them in CI, every fifth while working (the same
    share as the property tests, spread over the whole list)."""
    return cases if FULL_RUN else cases[::5]


SWEEP_MODEL = "beta-4-2d"  # the beta-sweep model the quick zoo adds to the default ones
# /evaluation in tests: a slice of the test set and few importance samples, so it takes a second
TEST_EVALUATION = EvaluationSettings(iwae_k=20, samples=2, test_limit=500, exact_limit=4)
TINY_TRAIN = 2_000  # a fixed slice: the first 2,000 training digits
TINY_TEST = 1_000


@pytest.fixture(scope="session")
def atlas_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("latent-atlas-home")
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    yield home
    if previous is None:
        os.environ.pop(HOME_ENV, None)
    else:
        os.environ[HOME_ENV] = previous


def _fetch_mnist(folder: Path) -> None:
    open_dataset("mnist", folder)


@pytest.fixture(scope="session")
def mnist(atlas_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Real MNIST, fetched and prepared once (md5-checked), copied into the test home."""
    fetched = cached("mnist", {"dataset": "mnist"}, _fetch_mnist, scratch=tmp_path_factory.mktemp("mnist"))
    return open_dataset("mnist", copy_tree(fetched, data_root(atlas_home)))[0]


@pytest.fixture(scope="session")
def mnist_root(atlas_home: Path, mnist: Dataset) -> Path:
    """The data folder holding MNIST's verified IDX files (under MNIST/raw) and its prepared copy."""
    return data_root(atlas_home)


@pytest.fixture(scope="session")
def train_set(mnist: Dataset) -> ImageSet:
    return mnist.train


@pytest.fixture(scope="session")
def test_set(mnist: Dataset) -> ImageSet:
    return mnist.test


TINY_MODEL = ModelConfig(latent_dim=2, hidden=(64,))
TINY_TRAINING = TrainConfig(
    epochs=2, batch_size=100, lr=2e-3, device="cpu", train_limit=TINY_TRAIN, test_limit=TINY_TEST
)


def posteriors(home: Path, model_id: str, images: ImageSet) -> tuple[torch.Tensor, torch.Tensor]:
    """A trained model's q(z|x) of the images, computed here, beside the server: mu, logvar [N, D]."""
    _, network = load_network(models_root(home) / model_id)
    with torch.inference_mode():
        posterior = network.encode(images.pixels())
        return posterior.mu, posterior.logvar


def posterior_means(home: Path, model_id: str, images: ImageSet) -> torch.Tensor:
    """A trained model's posterior means of the images: [N, D]."""
    return posteriors(home, model_id, images)[0]


def train_tiny(folder: Path, dataset: Dataset, **overrides: object) -> None:
    """Train (or resume) the tiny configuration into `folder`, with training settings overridden."""
    train(
        folder,
        model_id=folder.name,
        title=folder.name,
        model_config=TINY_MODEL,
        config=replace(TINY_TRAINING, **overrides),  # type: ignore[arg-type]
        dataset=dataset,
        resume=True,
        progress=False,
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, mnist: Dataset) -> Path:
    """A 2-D VAE trained for 2 epochs on the fixed 2,000-digit slice: its folder, in a home of its own."""

    def build(folder: Path) -> None:
        train(
            folder / "tiny-2d",
            model_id="tiny-2d",
            title="Tiny 2-D",
            model_config=TINY_MODEL,
            config=TINY_TRAINING,
            dataset=mnist,
            progress=False,
        )

    settings = {"model": TINY_MODEL, "training": TINY_TRAINING}
    trained = cached("tiny-model", settings, build, scratch=tmp_path_factory.mktemp("tiny-build"))
    return copy_tree(trained, models_root(tmp_path_factory.mktemp("tiny-home"))) / "tiny-2d"


@pytest.fixture(scope="session")
def quick_zoo(atlas_home: Path, mnist: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default zoo, one model of the beta sweep and the digit classifier, trained the quick way
    (3 epochs, and 2 for the classifier, on the first 12,000 digits) in the test home."""
    sweep_model = [e for e in zoo_entries(quick=True, device="cpu", zoo="beta") if e.model_id == SWEEP_MODEL]
    entries = [*zoo_entries(quick=True, device="cpu"), *sweep_model]
    classifier = classifier_config(quick=True, device="cpu")

    def build(home: Path) -> None:
        train_zoo(home, entries, mnist, progress=False, classifier=classifier)

    settings = {"entries": entries, "classifier": classifier}
    trained = cached("quick-zoo", settings, build, scratch=tmp_path_factory.mktemp("quick-zoo"))
    return copy_tree(trained, atlas_home)


# A sweep on sprites-small in miniature: two seeds of one VAE recipe and a beta-TCVAE, 4-D, one epoch each.
SPRITES_MODEL = ModelConfig(latent_dim=4, hidden=(64,))
SPRITES_TRAINING = TrainConfig(epochs=1, batch_size=64, device="cpu")
SPRITES_SWEEP = {
    "vae-s0": SPRITES_TRAINING,
    "vae-s1": replace(SPRITES_TRAINING, seed=1),
    "tcvae-s0": replace(SPRITES_TRAINING, loss="tcvae", beta=6.0),
}
TEST_DISENTANGLEMENT = DisentanglementSettings(points=200, eval_points=100)  # seconds a model
# The suite's servers start their training jobs at the test process's own priority. A server's jobs run
# below it (nice 10) so that a visitor's hover takes the CPU from training; beside another worker's tests
# that left a test's job waiting for the CPU (the Train page's took 119 s, 20 s alone). The command-line
# servers keep the default, which tests/app/test_jobs.py checks.
SUITE_JOBS = JobProcess(nice=0)


@pytest.fixture(scope="session")
def sprites_zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home of sprites-small (drawn here) and SPRITES_SWEEP's models, trained once."""

    def build(home: Path) -> None:
        dataset, _ = open_dataset(sprites.SMALL_KEY, data_root(home))
        for model_id, config in SPRITES_SWEEP.items():
            model_config = replace(SPRITES_MODEL, image_shape=dataset.info.image_shape)
            folder = models_root(home) / model_id
            train(
                folder,
                model_id=model_id,
                title=model_id,
                model_config=model_config,
                config=config,
                dataset=dataset,
                progress=False,
            )

    settings = {"model": SPRITES_MODEL, "sweep": SPRITES_SWEEP}
    trained = cached("sprites-zoo", settings, build, scratch=tmp_path_factory.mktemp("sprites-zoo"))
    return copy_tree(trained, tmp_path_factory.mktemp("sprites-home"))


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The README's commands for the two example models: train with examples/train.py, serve with --model.
EXAMPLE_MODELS = {
    "pytorch-vae": f"pytorch-vae={EXAMPLES / 'pytorch_vae.py'}:build",
    "conv-vae": f"conv-vae={EXAMPLES / 'conv_vae.py'}:build",
}


EXAMPLE_TRAINING = {name: ["--epochs", "3", "--limit", "10000"] for name in ("pytorch_vae", "conv_vae")}
# The examples of the VAEs people train (examples/autoencoder_kl.py, examples/batchnorm_vae.py), trained on
# a slice: the tests claim their serving, not their quality.
REAL_WORLD_TRAINING = {
    "autoencoder_kl": ["--epochs", "1", "--limit", "2000"],
    "batchnorm_vae": ["--epochs", "2"],
}
REAL_WORLD_MODELS = {
    "sd-vae": f"sd-vae={EXAMPLES / 'autoencoder_kl.py'}:build",
    "shapes-vae": f"shapes-vae={EXAMPLES / 'batchnorm_vae.py'}:build",
}


def _trained_examples(
    name: str, training: dict[str, list[str]], atlas_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each example of `training` trained by examples/train.py with its flags, as a user would, in a home
    reading the test home's MNIST (cached as `name`), and copied into the test home: their weights, and
    what an example renders of its own (batchnorm_vae's shapes folder)."""

    def build(home: Path) -> None:
        data_root(home).mkdir()
        (data_root(home) / "mnist").symlink_to(data_root(atlas_home) / "mnist")
        for example, flags in training.items():
            subprocess.run(
                [sys.executable, str(EXAMPLES / "train.py"), example, *flags],
                check=True,
                capture_output=True,
                env={**os.environ, HOME_ENV: str(home)},
            )
        shutil.rmtree(data_root(home))  # MNIST's link, and data prepared for this scratch home's paths

    trained = cached(
        name,
        {"training": training},
        build,
        sources=(*MODEL_SOURCES, EXAMPLES),
        scratch=tmp_path_factory.mktemp(name),
    )
    copy_tree(trained, atlas_home)


@pytest.fixture(scope="session")
def example_models(
    atlas_home: Path, mnist: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """examples/'s two models trained by examples/train.py (3 epochs on the first 10,000 digits, a few
    seconds each), their weights in the test home: id -> the --model value serving it."""
    _trained_examples("example-models", EXAMPLE_TRAINING, atlas_home, tmp_path_factory)
    return EXAMPLE_MODELS


@pytest.fixture(scope="session")
def real_world_examples(
    atlas_home: Path, mnist: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """examples/'s diffusers AutoencoderKL and BatchNorm conv VAE, trained so, their weights and the
    shapes folder in the test home: id -> the --model value serving it."""
    _trained_examples("real-world-examples", REAL_WORLD_TRAINING, atlas_home, tmp_path_factory)
    return REAL_WORLD_MODELS


def _home_sharing_data(tmp_path_factory: pytest.TempPathFactory, quick_zoo: Path, name: str) -> Path:
    """A home of its own holding the test home's MNIST and classifier (linked), and no model."""
    home = tmp_path_factory.mktemp(name)
    data_root(home).mkdir()
    (data_root(home) / "mnist").symlink_to(data_root(quick_zoo) / "mnist")
    classifier_folder(home, "mnist").parent.mkdir()
    classifier_folder(home, "mnist").symlink_to(classifier_folder(quick_zoo, "mnist"))
    return home


@pytest.fixture(scope="session")
def notebook_home(tmp_path_factory: pytest.TempPathFactory, quick_zoo: Path) -> Path:
    """A home of its own for latent_atlas.explore(): the test home's MNIST and classifier, no model."""
    return _home_sharing_data(tmp_path_factory, quick_zoo, "notebook-home")


@pytest.fixture(scope="session")
def binarized_home(tmp_path_factory: pytest.TempPathFactory, quick_zoo: Path, mnist: Dataset) -> Path:
    """The test home's MNIST and classifier with two tiny models: full-2d on intensities, and an IWAE
    (k = 3) on binarized images under a beta-sweep id (beta-2-2d), whose nats the sweep must not compare."""
    iwae = {"loss": "iwae", "iwae_k": 3, "binarized": True}

    def build(models: Path) -> None:
        train_tiny(models / "full-2d", mnist)
        train_tiny(models / "beta-2-2d", mnist, **iwae)

    settings = {"model": TINY_MODEL, "training": TINY_TRAINING, "iwae": iwae}
    trained = cached("binarized-models", settings, build, scratch=tmp_path_factory.mktemp("binarized"))
    home = _home_sharing_data(tmp_path_factory, quick_zoo, "binarized-home")
    copy_tree(trained, models_root(home))
    return home


@pytest.fixture(scope="session")
def binarized_url(binarized_home: Path) -> Iterator[str]:
    yield from _serve(binarized_home)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, *, training: bool = False, density_from: int = MAX_POINTS) -> Iterator[str]:
    """A live server over `home` on a free port, in a thread: its base URL while it runs."""
    port = _free_port()
    settings = Settings(
        home=home,
        device="cpu",
        evaluation=TEST_EVALUATION,
        disentanglement=TEST_DISENTANGLEMENT,
        training=training,
        job_process=SUITE_JOBS,
        density_from=density_from,
    )
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(quick_zoo: Path) -> Iterator[str]:
    yield from _serve(quick_zoo)


@pytest.fixture(scope="session")
def sprites_url(sprites_zoo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server over a copy of the sprites sweep, nothing scored yet."""
    yield from _serve(copy_tree(sprites_zoo, tmp_path_factory.mktemp("sprites-served")))


@pytest.fixture(scope="session")
def dense_url(quick_zoo: Path) -> Iterator[str]:
    """A live server over the quick zoo that draws maps of more than 20,000 points as density."""
    yield from _serve(quick_zoo, density_from=20_000)


# A characters set small enough to render in seconds (52 classes x 200 training glyphs), with the two
# full-ELBO models of its quick zoo and its classifier trained in a home of its own: the MNIST home's
# model list stays as it is.
CHARACTERS_TRAIN_PER_CLASS, CHARACTERS_TEST_PER_CLASS = 200, 24


def _train_characters_home(home: Path) -> None:
    dataset = characters.build(CHARACTERS_TRAIN_PER_CLASS, CHARACTERS_TEST_PER_CLASS)
    save_prepared(data_root(home), dataset, {"renderer": "tests"})
    entries = [e for e in zoo_entries(dataset=dataset.info, quick=True, device="cpu") if "full" in e.model_id]
    train_zoo(home, entries, dataset, progress=False, classifier=classifier_config(quick=True, device="cpu"))


@pytest.fixture(scope="session")
def characters_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = {"train_per_class": CHARACTERS_TRAIN_PER_CLASS, "test_per_class": CHARACTERS_TEST_PER_CLASS}
    built = cached(
        "characters-home", settings, _train_characters_home, scratch=tmp_path_factory.mktemp("characters")
    )
    return copy_tree(built, tmp_path_factory.mktemp("characters-home"))


@pytest.fixture(scope="session")
def characters_url(characters_home: Path) -> Iterator[str]:
    yield from _serve(characters_home)
