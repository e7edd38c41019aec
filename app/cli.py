"""`latent-atlas`: the model core's commands plus `serve`."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import torch
import uvicorn

from app.main import create_app
from app.settings import DEFAULT_HOST, DEFAULT_PORT, LOCAL_HOSTS, Settings
from model.cli import add_dataset_options, build_parser, load_dataset, run
from model.home import atlas_home
from model.zoo import classifier_config, train_zoo, zoo_entries


def cmd_serve(args: argparse.Namespace) -> int:
    home = atlas_home(args.home)
    dataset = load_dataset(home, args)
    # First run: the data set's default models are trained here, with progress bars, before the server
    # starts. Models of every other data set already in the home are served beside them.
    train_zoo(
        home,
        zoo_entries(
            dataset=dataset.info, train_size=len(dataset.train), quick=args.quick, device=args.device
        ),
        dataset,
        classifier=classifier_config(quick=args.quick, device=args.device),
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    app = create_app(Settings(home=home, device=args.device, allowed_hosts=allowed_hosts(args)))
    print(f"Latent Atlas on http://{args.host}:{args.port}  (API docs at /docs)", flush=True)
    # No proxy sits in front of a local tool, and per-request access logs cost more than a decode.
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", access_log=False, proxy_headers=False
    )
    return 0


def allowed_hosts(args: argparse.Namespace) -> tuple[str, ...]:
    """Host headers to serve: the local names, the bound address, and any --allowed-hosts."""
    hosts = [*LOCAL_HOSTS, *(h.strip() for h in (args.allowed_hosts or "").split(",") if h.strip())]
    if args.host not in ("0.0.0.0", "::"):
        hosts.append(args.host)
    return tuple(dict.fromkeys(hosts))


def add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve", help="train missing default models of --dataset, then serve every model in the home"
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: local only)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--allowed-hosts",
        help="comma-separated Host names to serve besides the local ones ('*' for any, e.g. in a container)",
    )
    serve.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    serve.add_argument("--quick", action="store_true", help="train missing models the quick way (demos)")
    serve.add_argument("--threads", type=int, default=1, help="torch threads (1 suits many tiny requests)")
    add_dataset_options(serve)
    serve.set_defaults(run=cmd_serve)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(add_serve), argv)
