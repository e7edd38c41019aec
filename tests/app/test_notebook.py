"""latent_atlas.explore(): the user's model served from a background thread on a free loopback port, shown
inline in Jupyter, and stopped without leaving a thread or a port behind."""

import sys
import threading
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx2
import pytest
import torch
from jupyter_client import KernelManager
from torch import nn

import latent_atlas
from app.notebook import frame_url
from model.data import Dataset
from model.factories import build
from model.outside import Wrapped


@pytest.fixture(scope="module")
def example(example_models: dict[str, str]) -> Wrapped:
    """The pytorch/examples VAE as its factory builds it."""
    return build(example_models["pytorch-vae"].partition("=")[2])


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since `before` that are still alive a moment later (a stopping thread may take a
    few milliseconds to be gone)."""
    deadline = time.monotonic() + 5
    while True:
        alive = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_explore_serves_the_model_and_stops_cleanly(example: Wrapped, notebook_home: Path) -> None:
    before = set(threading.enumerate())
    atlas = latent_atlas.explore(example, data="mnist", home=notebook_home, show=False)
    assert atlas.url.startswith("http://127.0.0.1:") and atlas.running
    health = httpx2.get(f"{atlas.url}/api/health").json()
    assert health["status"] == "ok" and health["models"] == [
        "vae"
    ]  # the user's model alone, named after its class
    models = httpx2.get(f"{atlas.url}/api/models").json()
    assert models[0]["origin"] == {"kind": "notebook", "source": "VAE"}
    page = httpx2.get(f"{atlas.url}/")
    assert "frame-ancestors 'self' http://localhost:* " in page.headers["content-security-policy"]
    assert "pytorch/examples VAE" in page.text
    assert atlas._repr_html_().startswith(f'<iframe src="{atlas.url}/"')
    atlas.stop()
    assert not atlas.running
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{atlas.url}/api/health")  # the port is closed
    assert _new_threads(before) == []


def test_explore_takes_images_in_memory(example: Wrapped, notebook_home: Path, mnist: Dataset) -> None:
    """500 test digits as a uint8 array with no labels: the map is those digits, nothing trains."""
    images = mnist.test.images[:500].numpy()
    atlas = latent_atlas.explore(example, images=images, home=notebook_home, model_id="mine", show=False)
    try:
        datasets = httpx2.get(f"{atlas.url}/api/datasets").json()
        (memory,) = (d for d in datasets if d["key"].startswith("memory-"))
        assert memory["test_size"] == 500 and not memory["labelled"]
        assert len(httpx2.get(f"{atlas.url}/api/models/mine/map").json()["x"]) == 500
        assert httpx2.get(f"{atlas.url}/api/health").json()["training"] == []
    finally:
        atlas.stop()


class NanDecoder(nn.Module):
    dataset = "mnist"

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(784, 4)

    def encode(self, x: torch.Tensor) -> Any:
        return self.encoder(x.flatten(1)).chunk(2, dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full((z.shape[0], 784), float("nan"))


def test_explore_raises_the_models_problem_and_stops(notebook_home: Path) -> None:
    before = set(threading.enumerate())
    with pytest.raises(ValueError, match=r"model nan-decoder: decode gave values that are not finite"):
        latent_atlas.explore(NanDecoder(), home=notebook_home, show=False)
    assert _new_threads(before) == []


def test_explore_needs_to_know_the_data(example: Wrapped, notebook_home: Path, mnist: Dataset) -> None:
    with pytest.raises(ValueError, match=r"name the data the model was trained on: data='mnist'"):
        latent_atlas.explore(example.network, home=notebook_home, show=False)
    with pytest.raises(ValueError, match=r"give the data set by name \(data=\) or as images=, not both"):
        latent_atlas.explore(example, data="mnist", images=mnist.test.images[:10], home=notebook_home)


def test_explore_shows_the_explorer_inline_in_a_kernel(
    example: Wrapped, notebook_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a Jupyter kernel (get_ipython() has a kernel) the atlas itself is displayed: its iframe."""
    shown: list[Any] = []
    ipython, display = ModuleType("IPython"), ModuleType("IPython.display")
    ipython.get_ipython = lambda: SimpleNamespace(kernel=object())  # type: ignore[attr-defined]
    display.display = shown.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    atlas = latent_atlas.explore(example, data="mnist", home=notebook_home)
    atlas.stop()
    assert shown == [atlas]


@pytest.mark.slow
def test_explore_in_a_real_kernel_shows_the_explorer_and_warns_of_nothing(
    example_models: dict[str, str], notebook_home: Path
) -> None:
    """A real IPython kernel (ipykernel, driven through jupyter_client as a notebook drives it) shows the
    explorer as the cell's output, with nothing written to the user's stderr."""
    factory = example_models["pytorch-vae"].partition("=")[2]
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(Path(__file__).resolve().parents[2]))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        code = (
            "import latent_atlas\nfrom model.factories import build\n"
            f"atlas = latent_atlas.explore(build({factory!r}), data='mnist', home={str(notebook_home)!r})"
        )
        outputs = _run_cell(client, code)
        _run_cell(client, "atlas.stop()")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    errors = [m["content"] for m in outputs if m["msg_type"] in ("error", "stream")]
    assert errors == []  # no traceback, and nothing on stdout or stderr (IPython's IFrame warning was)
    shown = [m["content"]["data"]["text/html"] for m in outputs if m["msg_type"] == "display_data"]
    assert len(shown) == 1 and shown[0].startswith('<iframe src="http://127.0.0.1:')


def _run_cell(client: Any, code: str) -> list[dict[str, Any]]:
    """Execute `code` in the kernel; -> the iopub messages it caused, until the kernel is idle again."""
    msg_id = client.execute(code)
    messages = []
    while True:
        message = client.get_iopub_msg(timeout=180)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return messages
        if message["msg_type"] not in ("status", "execute_input"):
            messages.append(message)


def test_the_frame_goes_through_jupyters_proxy_where_the_kernels_server_has_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "http://127.0.0.1:4321"
    for name in ("JPY_SESSION_NAME", "JUPYTERHUB_SERVICE_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    assert frame_url(url, 4321, None) == f"{url}/"  # not started by a Jupyter server: its own URL
    assert frame_url(url, 4321, "/user/me/proxy/{port}/") == "/user/me/proxy/4321/"
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/analysis.ipynb")
    assert frame_url(url, 4321, None) == "/proxy/4321/"  # jupyter-server-proxy is installed here
    assert frame_url(url, 4321, False) == f"{url}/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    assert frame_url(url, 4321, True) == "/user/ada/proxy/4321/"
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # a server without the proxy
    assert frame_url(url, 4321, None) == f"{url}/"
