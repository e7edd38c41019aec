"""The atlas from a notebook: `latent_atlas.explore(model, data="mnist")` serves the user's model on a free
loopback port from a background thread, with the same checks and pages as `latent-atlas serve --model`,
and shows the explorer inline in Jupyter (an iframe through IPython's display: nothing to install)."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, HTTPException

from app.main import create_app
from app.plane_state import ShownPlane
from app.schemas.view_link import ViewReport
from app.served_model import ServedModel
from app.settings import Settings
from app.view_link import ViewLink
from model.data import MapSplit, Split
from model.factories import OutsideModel, memory_dataset, prepare, prepare_in_memory
from model.home import atlas_home, check_model_id
from model.inference import Origin
from model.job_queue import JobQueue
from model.outside import wrap
from model.zoo import classifier_job

HOST = "127.0.0.1"
STARTUP_SECONDS = 120  # loading the data set and mapping its test split: seconds, more on a GPU's first call
# A notebook's page may frame the explorer: Jupyter and VS Code on this machine, whatever their port.
NOTEBOOK_FRAMERS = "'self' http://localhost:* http://127.0.0.1:* https://localhost:* vscode-webview:"
FRAME_HEIGHT = 760


@dataclass(frozen=True)
class Selection:
    """Points selected on the page: their `indices` in their `splits` (each "test" or "train"; a map of
    both splits holds both) and their posterior means `latents` [N, D]; `split` is the map's."""

    split: MapSplit
    indices: list[int]
    splits: list[Split]
    latents: torch.Tensor


@dataclass
class Atlas:
    """A running atlas: its `url`, the `model_id` the model is served under, and `stop()`. Shown as the
    explorer when it is a cell's value, framed from `frame_url` (its url, or the Jupyter server's proxy
    path to it, which a notebook on a remote server can reach)."""

    url: str
    model_id: str
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)
    _app: FastAPI = field(repr=False)
    frame_url: str = ""

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the server and wait for its thread (and the port) to be released."""
        self._server.should_exit = True
        self._thread.join()
        self._socket.close()  # the server listens on this socket: the port is free once it is closed

    @property
    def _served(self) -> ServedModel:
        served: ServedModel = self._app.state.registry.models[self.model_id]
        return served

    @property
    def _report(self) -> ViewReport:
        """The view the page last reported (an empty one before it has)."""
        link: ViewLink = self._app.state.view_link
        return link.reports.get(self.model_id, ViewReport(hovered=None))

    @property
    def selection(self) -> Selection:
        """The points selected on the page (box or lasso): their split, indices in it, and latents."""
        report, served = self._report, self._served
        images = [served.point_of(report.split, position) for position in report.selection]
        latents = served.map_of(report.split).mu[report.selection]
        return Selection(
            report.split, [index for _, index in images], [split for split, _ in images], latents
        )

    @property
    def pins(self) -> list[tuple[Split, int]]:
        """The images pinned on the page, as (split, index)."""
        report, served = self._report, self._served
        return [served.point_of(report.split, position) for position in report.pins]

    @property
    def hovered(self) -> torch.Tensor | None:
        """The latent under the page's cursor ([D]; on a UMAP or t-SNE plane the page's estimate), or None."""
        report = self._report
        if report.hovered is None:
            return None
        nonlinear = None
        if report.plane != "pca":  # the page shows it: computed, so held or cached
            nonlinear = self._app.state.planes.cached(self._served, report.split, report.plane)
        shown = ShownPlane(self._served.latent_map, nonlinear, report.split)
        return shown.lift(torch.tensor([report.hovered]))[0]

    def highlight(self, indices: Sequence[int], split: Split = "test") -> None:
        """Mark these images (of `split`) on the page; an empty list clears the marks."""
        link: ViewLink = self._app.state.view_link
        try:
            link.highlight(self._served, split, [int(i) for i in indices])
        except HTTPException as error:
            raise ValueError(error.detail) from None

    def _repr_html_(self) -> str:
        url = escape(self.frame_url or f"{self.url}/", quote=True)
        return f'<iframe src="{url}" width="100%" height="{FRAME_HEIGHT}" style="border:0"></iframe>'


def _model_id(network: Any) -> str:
    """A default id from the model's class name: ConvVAE -> conv-vae, MyVAEModel -> my-vae-model."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", type(network).__name__).lower()
    return re.sub(r"[^a-z0-9_-]+", "-", words).strip("-")[:64] or "model"


def frame_url(url: str, port: int, proxy: bool | str | None) -> str:
    """Where the notebook's page finds the atlas. proxy: a path with {port} ("/user/me/proxy/{port}/"),
    True for Jupyter's server proxy (jupyter-server-proxy, at the server's prefix: JupyterHub names it),
    False for the atlas's own loopback URL, None to use the proxy when this kernel was started by a Jupyter
    server that has it (a notebook on a remote machine reaches nothing else)."""
    if proxy is None:
        started_by_jupyter = "JPY_SESSION_NAME" in os.environ or "JUPYTERHUB_SERVICE_PREFIX" in os.environ
        proxy = started_by_jupyter and importlib.util.find_spec("jupyter_server_proxy") is not None
    if proxy is True:
        proxy = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/").rstrip("/") + "/proxy/{port}/"
    return proxy.format(port=port) if proxy else f"{url}/"


def _show(atlas: Atlas) -> None:
    """Display the explorer inline when running in a Jupyter kernel; nothing elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        display(atlas)  # type: ignore[no-untyped-call]  # its _repr_html_: HTML() warns of any <iframe>


def _start(settings: Settings, model_id: str, proxy: bool | str | None) -> Atlas:
    """Serve on a free loopback port from a daemon thread; once the registry has loaded, raise the
    model's problem (as ValueError) instead of returning an atlas that cannot show it."""
    app = create_app(settings)
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind((HOST, 0))
    port = listening.getsockname()[1]
    # asyncio's own loop: uvloop's policy is process-wide, and the notebook has its loop already.
    config = uvicorn.Config(app, log_level="warning", access_log=False, loop="asyncio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    url = f"http://{HOST}:{port}"
    atlas = Atlas(url, model_id, _server=server, _thread=thread, _socket=listening, _app=app)
    atlas.frame_url = frame_url(url, port, proxy)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            reason = (
                f"did not start within {STARTUP_SECONDS} s" if thread.is_alive() else "stopped while starting"
            )
            atlas.stop()  # the server exits as soon as it has started, or has already
            raise RuntimeError(f"the atlas's server {reason} (its log says why)")
        time.sleep(0.02)
    failure = app.state.registry.failures.get(model_id)
    if failure is not None:
        atlas.stop()
        raise ValueError(f"model {model_id}: {failure.why}")
    return atlas


def explore(
    model: Any,
    data: str | None = None,
    *,
    images: Any | None = None,
    labels: Any | None = None,
    class_names: Sequence[str] | None = None,
    model_id: str | None = None,
    home: Path | str | None = None,
    device: str = "auto",
    show: bool = True,
    proxy: bool | str | None = None,
    **declarations: Any,
) -> Atlas:
    """Serve `model` (a torch.nn.Module with encode and decode, or latent_atlas.wrap(...)) and return the
    running atlas; in Jupyter the explorer shows inline.

    Its data: `data`, a data set's name ("mnist", "fashion-mnist", ..., or "folder:PATH"), fetched into
    the home like any; or `images` held in memory ([N, H, W] or [N, C, H, W], floats in [0, 1] or uint8)
    with optional `labels` and `class_names`; or the data set the model declares. `declarations` are
    wrap()'s: decodes ("logits" or "means"), inputs ("images" or "flat"), latent_dim, title. The lab's
    classifier-judged figures need the data set's classifier, trained in the background when missing.
    `proxy` says how the notebook's page reaches the atlas (see frame_url): through Jupyter's server proxy
    when the kernel's Jupyter server has it, else at its loopback URL.
    """
    if images is not None and data is not None:
        raise ValueError("give the data set by name (data=) or as images=, not both")
    wrapped = wrap(model, dataset=data, **declarations)
    if images is None and wrapped.declared.dataset is None:
        raise ValueError(
            "name the data the model was trained on: data='mnist' (or 'folder:PATH'), or images="
        )
    model_id = check_model_id(model_id or _model_id(wrapped.network))
    home = atlas_home(home)
    origin = Origin("notebook", type(wrapped.network).__name__)
    if images is not None:
        dataset = memory_dataset(images, labels, class_names)
        prepare_in_memory(dataset, home)
        outside = OutsideModel(model_id, origin, wrapped, dataset=dataset.info)
    else:
        outside = prepare(model_id, wrapped, home, origin)
    job = None if outside.dataset is None else classifier_job(home, outside.dataset, device=device)
    queue = JobQueue(home)
    if job is not None and job.target not in queue.pending_targets():
        queue.submit(job)
    settings = Settings(
        home=home,
        device=device,
        outside=(outside,),
        home_models=False,
        frame_ancestors=NOTEBOOK_FRAMERS,
        linked_view=True,
    )
    atlas = _start(settings, model_id, proxy)
    if show:
        _show(atlas)
    return atlas
