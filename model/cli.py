"""`latent-atlas data | train | eval | disentanglement`: the command line of the model core."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from model.checkpoint import CheckpointError, load_network, weights_fingerprint
from model.classifier import LoadedClassifier, is_trained, load_classifier, train_classifier
from model.config import ARCHITECTURES, DEFAULT_HIDDEN, LOSS_MODES, LR_SCHEDULES, ModelConfig, TrainConfig
from model.data import Dataset, DataUnavailableError, evaluated_split
from model.datasets import DATASET_HELP, DATASET_NAMES, folder_path, open_dataset, open_recorded
from model.device import resolve_device
from model.disentanglement import DisentanglementSettings, scores_of
from model.distributed import RankFailure, Ranks, process_group, torchrun_ranks
from model.evaluation import FIGURE_ROWS, EvaluationSettings, cached_evaluation
from model.factor_scores import factor_source
from model.home import atlas_home, check_model_id, classifier_folder, data_root, models_root
from model.likelihoods import CHOICES, DEFAULT_GAUSSIAN_SCALE, LIKELIHOODS, suited_to
from model.metrics import mean_image_baseline
from model.presets import PRESETS
from model.sources import sprites
from model.train import train
from model.zoo import ZOO_NAMES, classifier_config, train_zoo, zoo_entries

EXIT_USAGE = 2
EXIT_NO_DATA = 3
EXIT_WRITE_FAILED = 4
EXIT_RANK_FAILED = 5
EXIT_INTERRUPTED = 130


def _home(args: argparse.Namespace) -> Path:
    return atlas_home(args.home)


def load_dataset(home: Path, args: argparse.Namespace) -> Dataset:
    """The data set the command names (--dataset, --data-dir, --image-size), prepared under the home."""
    dataset, source = open_dataset(
        args.dataset, data_root(home), data_dir=args.data_dir, image_size=getattr(args, "image_size", None)
    )
    if source.get("unreadable"):
        print(f"{dataset.info.title}: skipped {source['unreadable']} unreadable files", file=sys.stderr)
    return dataset


def cmd_data(args: argparse.Namespace) -> int:
    dataset = load_dataset(_home(args), args)
    info = dataset.info
    channels, height, width = info.image_shape
    print(
        f"{info.title} ({info.key}): {len(dataset.train)} training and {len(dataset.test)} test images, "
        f"{channels}x{height}x{width}, {len(info.class_names)} classes, "
        f"under {data_root(_home(args)) / info.key}"
    )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if (args.zoo is not None) == (args.model_id is not None):
        raise ValueError("name one MODEL_ID to train, or pass --zoo for the default models")
    if args.parallel < 1:
        raise ValueError(f"--parallel must be >= 1, got {args.parallel}")
    if args.zoo is not None:
        return _train_zoo(args)
    if args.parallel != 1:
        raise ValueError(
            "--parallel trains the models of a --zoo side by side; one model trains in one process"
        )
    with process_group(args.device) as ranks:
        return _train_one(args, ranks)


def _train_zoo(args: argparse.Namespace) -> int:
    if torchrun_ranks() is not None:
        raise ValueError(
            "torchrun trains one MODEL_ID across its processes; a --zoo trains side by side with --parallel N"
        )
    home = _home(args)
    if args.zoo not in ZOO_NAMES:
        if args.zoo not in DATASET_NAMES and folder_path(args.zoo) is None:
            raise ValueError(
                f"--zoo {args.zoo} is neither a zoo ({', '.join(ZOO_NAMES)}) nor a data set ({DATASET_HELP})"
            )
        args.dataset, args.zoo = args.zoo, "default"  # --zoo DATASET: that data set's default zoo
    if args.zoo == "disentanglement" and args.dataset == "mnist":
        args.dataset = sprites.KEY  # MNIST's factors are not known: the sweep's set is sprites unless named
    dataset = load_dataset(home, args)
    trained = train_zoo(
        home,
        zoo_entries(
            dataset=dataset.info,
            train_size=len(dataset.train),
            quick=args.quick,
            device=args.device,
            zoo=args.zoo,
        ),
        dataset,
        classifier=classifier_config(quick=args.quick, device=args.device),
        parallel=args.parallel,
    )
    names = ", ".join(info.model_id for info in trained) or "nothing (all present)"
    print(f"trained {names} under {models_root(home)}")
    return 0


# What a --preset fixes (its model and optimiser); each flag's default when there is no preset.
PRESET_FIXES: dict[str, Any] = {
    "latent_dim": 2,
    "hidden": None,
    "architecture": "mlp",
    "batch_size": TrainConfig.batch_size,
    "lr": TrainConfig.lr,
    "lr_schedule": TrainConfig.lr_schedule,
    "likelihood": None,  # suited to the data set's images (model.likelihoods.suited_to)
    "likelihood_scale": None,
}


def train_configs(
    args: argparse.Namespace, image_shape: tuple[int, int, int]
) -> tuple[ModelConfig, TrainConfig]:
    """The model and its training that `train MODEL_ID`'s flags describe, from --preset when one is named
    (the loss, k, epochs, seed, slice and device still apply to it)."""
    chosen = {"loss": args.loss, "beta": args.beta, "iwae_k": args.iwae_k, "seed": args.seed}
    chosen |= {"device": args.device, "train_limit": args.train_limit}
    if args.preset is not None:
        given = [name for name in PRESET_FIXES if getattr(args, name) is not None]
        if given:
            named = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ValueError(f"--preset {args.preset} fixes the model and its optimiser: drop {named}")
        preset = PRESETS[args.preset]
        epochs = {"epochs": args.epochs} if args.epochs is not None else {}
        return (
            replace(preset.model_config, image_shape=image_shape),
            replace(preset.train_config, **chosen, **epochs),
        )
    flags: dict[str, Any] = {
        name: default if getattr(args, name) is None else getattr(args, name)
        for name, default in PRESET_FIXES.items()
    }
    model_config = ModelConfig(
        latent_dim=flags["latent_dim"],
        hidden=tuple(int(width) for width in flags["hidden"].split(",")) if flags["hidden"] else (),
        architecture=flags["architecture"],
        image_shape=image_shape,
        likelihood=flags["likelihood"] or suited_to(image_shape[0]),
        likelihood_scale=flags["likelihood_scale"],
    )
    train_config = TrainConfig(
        **chosen,
        epochs=TrainConfig.epochs if args.epochs is None else args.epochs,
        batch_size=flags["batch_size"],
        lr=flags["lr"],
        lr_schedule=flags["lr_schedule"],
        binarized=args.binarized,
    )
    return model_config, train_config


def _train_one(args: argparse.Namespace, ranks: Ranks) -> int:
    home = _home(args)
    model_id = check_model_id(args.model_id)
    dataset = load_dataset(home, args)
    model_config, train_config = train_configs(args, dataset.info.image_shape)
    info = train(
        models_root(home) / model_id,
        model_id=model_id,
        title=args.title or model_id,
        model_config=model_config,
        config=train_config,
        dataset=dataset,
        resume=args.resume,
        ranks=ranks,
    )
    if ranks.is_main:
        print(
            f"{model_id}: test -ELBO {info.metrics['neg_elbo']:.2f} nats after {info.epochs_completed} epochs"
        )
    return 0


def _model_folder(home: Path, name: str) -> Path:
    """MODEL is an id under the home, or a path to a model folder."""
    candidate = Path(name)
    if candidate.is_dir():
        return candidate
    return models_root(home) / check_model_id(name)


def home_classifier(home: Path, dataset: Dataset, device: str) -> LoadedClassifier:
    """The data set's classifier in `home`, trained first (about half a minute) if there is none."""
    folder = classifier_folder(home, dataset.info.key)
    if not is_trained(folder):
        train_classifier(folder, classifier_config(device=device), dataset)
    return load_classifier(folder, resolve_device(device))


def cmd_eval(args: argparse.Namespace) -> int:
    home = _home(args)
    folder = _model_folder(home, args.model)
    device = resolve_device(args.device)
    info, network = load_network(folder, device)
    if not info.dataset.labelled:
        raise ValueError(
            f"{info.model_id} was trained on {info.dataset.title}, which has no labels to evaluate with"
        )
    dataset = open_recorded(info.dataset, data_root(home), args.data_dir)
    train_set, test_set = dataset.train, evaluated_split(dataset.test, info.train_config)
    settings = EvaluationSettings(
        iwae_k=args.iwae_k, samples=args.samples, test_limit=args.test_limit, exact_limit=args.exact_limit
    )
    classifier = home_classifier(home, dataset, args.device)
    evaluation = cached_evaluation(
        folder,
        network,
        classifier,
        test_set,
        train_set,
        settings,
        weights=weights_fingerprint(folder),
        refresh=args.fresh,
    )
    evaluated = test_set.head(settings.test_limit)
    baseline = mean_image_baseline(train_set.pixels(device), evaluated.pixels(device), network.likelihood)
    if args.json:
        report = {"model_id": info.model_id, "title": info.title, **evaluation.as_dict()}
        print(json.dumps({**report, "mean_image_baseline_nll": baseline}, indent=2))
        return 0
    rows = [
        (row.label_for(evaluation), row.shown(evaluation))
        for row in FIGURE_ROWS
        if row.applies_to(evaluation)
    ]
    rows.append(("mean-image baseline NLL", f"{baseline:.2f}"))
    print(
        f"{info.title} ({info.model_id}, {info.dataset.title}), {evaluation.test_images} test images, "
        f"{evaluation.samples} z draw(s) each, p(x|z): {evaluation.likelihood}, computed in "
        f"{evaluation.seconds:.0f} s"
    )
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


def cmd_disentanglement(args: argparse.Namespace) -> int:
    home = _home(args)
    info, network = load_network(_model_folder(home, args.model), resolve_device(args.device))
    network.eval()
    source = factor_source(network, info.dataset)
    if source is None:
        raise ValueError(
            f"{info.model_id} was trained on {info.dataset.title}, whose factors of variation are not known: "
            "the disentanglement metrics need a set that has them (--dataset sprites)"
        )
    settings = DisentanglementSettings(
        points=args.points, eval_points=max(2, args.points // 2), seed=args.seed
    )
    began = time.perf_counter()
    scores = scores_of(source, settings)
    figures = scores.figures()
    if args.json:
        names = [factor.name for factor in info.dataset.factors]
        print(
            json.dumps(
                {"model_id": info.model_id, **figures, "factors": names, "information": scores.information}
            )
        )
        return 0
    seconds = time.perf_counter() - began
    print(f"{info.title} ({info.model_id}), {settings.points} points, seed {settings.seed}, {seconds:.0f} s")
    for name, value in figures.items():
        print(f"  {name:<20}  {value:.3f}")
    return 0


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="mnist", metavar="NAME", help=f"the data set: {DATASET_HELP}")
    parser.add_argument(
        "--data-dir", type=Path, help="a folder holding the data set's published files, for machines offline"
    )
    parser.add_argument(
        "--image-size",
        type=int,
        help="folder: data sets: the square side images are resized to (28 gray, 32 colour)",
    )


AddCommands = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def build_parser(add_commands: AddCommands | None = None) -> argparse.ArgumentParser:
    """The `latent-atlas` parser; `add_commands` lets a layer above (the web app's `serve`) add its own."""
    parser = argparse.ArgumentParser(prog="latent-atlas", description="Explore the latent spaces of VAEs.")
    parser.add_argument(
        "--home",
        type=Path,
        help="data and models folder (default $LATENT_ATLAS_HOME or ~/.cache/latent-atlas)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="fetch, verify and prepare a data set")
    add_dataset_options(data)
    data.set_defaults(run=cmd_data)

    tr = commands.add_parser("train", help="train one model, or a zoo with --zoo")
    tr.add_argument("model_id", nargs="?", metavar="MODEL_ID", help="folder name under the home")
    tr.add_argument(
        "--zoo",
        nargs="?",
        const="default",
        metavar="ZOO",
        help="train what is missing of a zoo: the default models of --dataset, the beta sweep (--zoo beta), "
        "the disentanglement sweep on sprites (--zoo disentanglement: a VAE, beta-VAE and beta-TCVAE, "
        "3 seeds each), or a data set's default models (--zoo characters)",
    )
    tr.add_argument("--quick", action="store_true", help="with --zoo: a few epochs on a slice, for tests")
    tr.add_argument("--latent-dim", type=int, help="default 2")
    tr.add_argument(
        "--hidden",
        help="comma-separated widths: the MLP's layers (default "
        + ",".join(map(str, DEFAULT_HIDDEN["mlp"]))
        + ") or the conv stages' channels, each halving the image (default "
        + ",".join(map(str, DEFAULT_HIDDEN["conv"]))
        + ", a stage of twice the channels more each time the image's side doubles past 32)",
    )
    tr.add_argument("--architecture", choices=ARCHITECTURES, help="default mlp")
    tr.add_argument(
        "--likelihood",
        choices=LIKELIHOODS,
        help="p(x|z), suited to the data set's images by default (bernoulli for grey, logistic for colour): "
        + "; ".join(f"{name}: {described}" for name, described in CHOICES.items()),
    )
    tr.add_argument(
        "--likelihood-scale",
        type=float,
        metavar="SIGMA",
        help="with --likelihood gaussian: its fixed sigma on intensities in [0, 1] "
        f"(default {DEFAULT_GAUSSIAN_SCALE})",
    )
    tr.add_argument("--loss", choices=LOSS_MODES, default="full")
    tr.add_argument(
        "--beta",
        type=float,
        default=1.0,
        help="the KL term's weight with --loss beta; the total correlation's with --loss tcvae or factorvae "
        "(FactorVAE's gamma is beta - 1)",
    )
    tr.add_argument(
        "--iwae-k", type=int, default=1, help="importance samples per image in the bound, with --loss iwae"
    )
    tr.add_argument("--epochs", type=int, help=f"default {TrainConfig.epochs}, or the preset's")
    tr.add_argument("--batch-size", type=int, help=f"default {TrainConfig.batch_size}")
    tr.add_argument("--lr", type=float, help=f"default {TrainConfig.lr}")
    tr.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        help=f"default {TrainConfig.lr_schedule}; cosine decays it to 0, iwae-paper is Burda et al.'s stages",
    )
    tr.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a recipe from the literature, its model and optimiser fixed: iwae-paper-vae is Burda et al.'s "
        "784-200-200-50 tanh VAE on binarized data (3,280 epochs; --loss iwae --iwae-k 50 for their IWAE)",
    )
    tr.add_argument(
        "--binarized",
        action="store_true",
        help="dynamically binarized data: each epoch's images drawn as x ~ Bernoulli(intensity), the test "
        "set binarized once (seeded)",
    )
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--train-limit", type=int, help="train on the first N training images only")
    tr.add_argument("--title", help="display name (default: the id)")
    tr.add_argument("--resume", action="store_true", help="continue from the last complete epoch")
    tr.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    tr.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="with --zoo: train N models at a time, each in a process of its own (one GPU each when there "
        "are several; the CPU's threads shared out otherwise)",
    )
    add_dataset_options(tr)
    tr.set_defaults(run=cmd_train)

    ev = commands.add_parser(
        "eval",
        help="ELBO, log p(x) (IWAE bound; exact if 2-D), KL per dimension, FID-MNIST, recon. accuracy",
    )
    ev.add_argument("model", metavar="MODEL", help="a model id under the home, or a model folder")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument(
        "--samples",
        type=int,
        default=EvaluationSettings.samples,
        help="z draws per image for E_q[log p(x|z)]",
    )
    ev.add_argument(
        "--iwae-k",
        type=int,
        default=EvaluationSettings.iwae_k,
        help="importance samples for the log p(x) bound",
    )
    ev.add_argument("--test-limit", type=int, help="evaluate on the first N test images only")
    ev.add_argument(
        "--exact-limit",
        type=int,
        default=EvaluationSettings.exact_limit,
        help="2-D models: the first N test images whose log p(x) is integrated exactly",
    )
    ev.add_argument("--fresh", action="store_true", help="recompute even if evaluation.json matches")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--data-dir", type=Path, help="a folder holding the data set's published files")
    ev.set_defaults(run=cmd_eval)

    dis = commands.add_parser(
        "disentanglement",
        help="the beta-VAE and FactorVAE scores, MIG, SAP and DCI of a model of a set with known factors",
    )
    dis.add_argument("model", metavar="MODEL", help="a model id under the home, or a model folder")
    dis.add_argument(
        "--points",
        type=int,
        default=DisentanglementSettings.points,
        help="samples each metric trains on (half as many held out); disentanglement_lib's 10,000 by default",
    )
    dis.add_argument("--seed", type=int, default=0)
    dis.add_argument("--json", action="store_true", help="print one JSON object, with the information matrix")
    dis.add_argument("--device", default="auto")
    dis.set_defaults(run=cmd_disentanglement)
    if add_commands is not None:
        add_commands(commands)
    return parser


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse and run a command, turning known failures into one message and an exit code."""
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except DataUnavailableError as error:
        print(f"latent-atlas: {error}", file=sys.stderr)
        return EXIT_NO_DATA
    except RankFailure as error:
        print(f"latent-atlas: error: {error}", file=sys.stderr)
        return EXIT_RANK_FAILED
    except (CheckpointError, ValueError) as error:
        print(f"latent-atlas: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(
            f"latent-atlas: error: {error.strerror or error}{where}; what was saved before is intact",
            file=sys.stderr,
        )
        return EXIT_WRITE_FAILED
    except KeyboardInterrupt:
        print(
            "\nlatent-atlas: interrupted; the last complete epoch is saved (continue with --resume)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)
