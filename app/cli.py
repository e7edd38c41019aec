"""`latent-atlas`: the model core's commands plus `serve`."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI

from app.limits import MAX_POINTS
from app.main import create_app
from app.settings import DEFAULT_HOST, DEFAULT_PORT, LOCAL_HOSTS, Settings
from model.cli import add_dataset_options, build_parser, load_dataset, run
from model.factories import OutsideModel, from_factory
from model.home import HOME_ENV, atlas_home
from model.job_queue import JobQueue, JobSpec
from model.zoo import classifier_job, zoo_jobs

WORKER_SETTINGS_ENV = "LATENT_ATLAS_WORKER_SETTINGS"  # what `serve --workers N` hands its workers
# How long uvicorn's supervisor waits for a worker to answer its health check before killing it. A new
# worker answers only once it has imported this module (torch and all, ~3 s idle); uvicorn's default of
# 5 s killed and restarted starting workers over and over on a busy machine, so none ever served.
WORKER_ANSWER_SECONDS = 60


def cmd_serve(args: argparse.Namespace) -> int:
    if args.workers < 1 or args.threads < 1:
        raise ValueError(f"--workers and --threads must be >= 1, got {args.workers} and {args.threads}")
    if args.density_from < 1:
        raise ValueError(f"--density-from must be >= 1, got {args.density_from}")
    home = atlas_home(args.home)
    os.environ[HOME_ENV] = str(home)  # a --model factory (latent_atlas.home()) sees the server's home
    dataset = load_dataset(home, args)
    # First run: the server answers at once and trains the data set's missing default models (and its
    # classifier) as jobs, serving each as it finishes. Models of every other data set already in the
    # home are served beside them. Not when the user came with models of their own (--model): those are
    # what they asked to see.
    queue = JobQueue(home)
    pending = queue.pending_targets()
    specs = zoo_jobs(home, dataset.info, len(dataset.train), quick=args.quick, device=args.device)
    if specs and (args.no_training or args.model):  # serve what exists, and say what is missing
        why = "--no-training" if args.no_training else "serving your --model"
        print(
            f"not training ({why}): missing {_named(specs)}; `latent-atlas train --zoo` trains them",
            flush=True,
        )
        specs = []
    if args.no_training:
        pending = []
    # The user's own models: each factory imported and called now, on this machine, its data set fetched;
    # one that fails is reported by the server (health, the pages) and the others are served. Their data
    # sets' classifiers train too, for the lab.
    queued = {*pending, *(spec.target for spec in specs)}
    outside = tuple(_not_queued(from_factory(spec, home), queued) for spec in args.model)
    for model in outside:
        if model.dataset is not None and not args.no_training:
            job = classifier_job(home, model.dataset, quick=args.quick, device=args.device)
            if job is not None and all(job.target != spec.target for spec in specs):
                specs.append(job)
    for spec in specs:
        if spec.target not in pending:
            queue.submit(spec)
    if specs:
        print(f"training in the background, each served when done: {_named(specs)}", flush=True)
    training = training_allowed(args)
    if not training:
        print("training from the page is off (--allow-training turns it on)", flush=True)
    print(f"Latent Atlas on http://{args.host}:{args.port}  (API docs at /docs)", flush=True)
    # No proxy sits in front of a local tool, and per-request access logs cost more than a decode.
    serving = {"host": args.host, "port": args.port, "log_level": "warning", "access_log": False}
    served = {
        "home": str(home),
        "device": args.device,
        "allowed_hosts": allowed_hosts(args),
        "training": training,
        "run_queue": not args.no_training,
        "threads": args.threads,
        "workers": args.workers,
        "density_from": args.density_from,
    }
    if args.workers == 1:
        uvicorn.run(_served_app(served, outside), proxy_headers=False, **serving)
        return 0
    # Each worker is a process of its own that builds the app from these settings: uvicorn starts them,
    # restarts one that dies, and shares the port between them.
    given = {**served, "models": args.model, "queued": sorted(queued)}
    os.environ[WORKER_SETTINGS_ENV] = json.dumps(given)
    del outside  # the workers build their own: this process only watches over them
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        workers=args.workers,
        timeout_worker_healthcheck=WORKER_ANSWER_SECONDS,
        proxy_headers=False,
        **serving,
    )
    return 0


def worker_app() -> FastAPI:
    """The app of one worker of `serve --workers N`, from the settings `serve` left in the environment.
    Each worker loads every model (calling the user's factories again), read-only; the home's job queue
    runs in one worker at a time, and every worker serves what its jobs publish."""
    given = json.loads(os.environ[WORKER_SETTINGS_ENV])
    home, queued = Path(given["home"]), set(given["queued"])
    outside = tuple(_not_queued(from_factory(spec, home), queued) for spec in given["models"])
    return _served_app(given, outside)


def _served_app(served: dict[str, Any], outside: tuple[OutsideModel, ...]) -> FastAPI:
    """The app of one server process, from `serve`'s settings as plain values."""
    torch.set_num_threads(served["threads"])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    settings = Settings(
        home=Path(served["home"]),
        device=served["device"],
        allowed_hosts=tuple(served["allowed_hosts"]),
        training=served["training"],
        run_queue=served["run_queue"],
        outside=outside,
        workers=served["workers"],
        density_from=served["density_from"],
    )
    return create_app(settings)


def _named(specs: list[JobSpec]) -> str:
    """What jobs train, named for the console: model ids, and "the classifier of KEY"."""
    return ", ".join(
        spec.target if spec.kind == "model" else f"the classifier of {spec.target}" for spec in specs
    )


def _not_queued(model: OutsideModel, queued: set[str]) -> OutsideModel:
    """The model, or its problem when a queued job would publish a model of the same id over it."""
    if model.model_id not in queued:
        return model
    problem = f"the id {model.model_id!r} is a model this home is training: choose another"
    return replace(model, wrapped=None, problem=problem)


def training_allowed(args: argparse.Namespace) -> bool:
    """Visitors may train models when the server is local only, or when --allow-training says so."""
    if args.no_training:
        return False
    return args.allow_training or is_loopback(args.host)


def is_loopback(host: str) -> bool:
    """True for an address (or name) that only this machine reaches: 127.0.0.0/8, ::1, localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(args: argparse.Namespace) -> tuple[str, ...]:
    """Host headers to serve: the local names, the bound address, and any --allowed-hosts."""
    hosts = [*LOCAL_HOSTS, *(h.strip() for h in (args.allowed_hosts or "").split(",") if h.strip())]
    if args.host not in ("0.0.0.0", "::"):
        hosts.append(args.host)
    return tuple(dict.fromkeys(hosts))


def add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve", help="serve every model in the home, training --dataset's missing default models meanwhile"
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: local only)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--allowed-hosts",
        help="comma-separated Host names to serve besides the local ones ('*' for any, e.g. in a container)",
    )
    training = serve.add_mutually_exclusive_group()
    training.add_argument(
        "--allow-training",
        action="store_true",
        help="let visitors queue training jobs even when binding beyond loopback",
    )
    training.add_argument(
        "--no-training",
        action="store_true",
        help="train nothing: serve the models the home has (missing ones are named), and refuse training "
        "jobs from the page",
    )
    serve.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="ID=FACTORY",
        help="also serve your own VAE: ID=package.module:factory or ID=path/to/file.py:factory, the factory "
        "returning the model (see the README's 'Bring your own model'); repeatable",
    )
    serve.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    serve.add_argument("--quick", action="store_true", help="train missing models the quick way (demos)")
    serve.add_argument(
        "--threads", type=int, default=1, help="torch threads per worker (1 suits many tiny requests)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes sharing the port, each with its own copy of the models (for more visitors "
        "than one process answers); training jobs and evaluations still run once",
    )
    serve.add_argument(
        "--density-from",
        type=int,
        default=MAX_POINTS,
        metavar="N",
        help=f"draw a map of more than N points as density tiles, and as points where a view holds few "
        f"(default {MAX_POINTS:,})",
    )
    add_dataset_options(serve)
    serve.set_defaults(run=cmd_serve)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(add_serve), argv)


if __name__ == "__main__":  # `torchrun ... -m app.cli train ...` runs the CLI as a module
    raise SystemExit(main())
