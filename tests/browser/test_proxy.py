"""The atlas behind Jupyter's own server proxy (jupyter-server-proxy, as a notebook on a remote server
reaches it): a real Jupyter server forwards /proxy/PORT/ to the live server; the explorer's every URL
carries the prefix, so it draws, decodes under the cursor and encodes an upload through the proxy."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from playwright.sync_api import Page, Response, expect

from model.data import ImageSet
from tests.app.images import digit_image, encode


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Jupyter server with jupyter-server-proxy on a free loopback port (no token: tests only)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("jupyter")
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--no-browser",
        "--allow-root",
        "--IdentityProvider.token=",
        f"--ServerApp.root_dir={folder}",
    ]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(folder / "config"), "JUPYTER_RUNTIME_DIR": str(folder)}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"{url}/api/status").status_code == 200:
                break
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("the Jupyter server did not start")
        time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_the_explorer_works_through_jupyters_server_proxy(
    page: Page, live_url: str, jupyter: str, test_set: ImageSet, tmp_path: Path
) -> None:
    prefix = f"/proxy/{urlsplit(live_url).port}"
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{jupyter}{prefix}/?model=full-2d")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=60_000)
    assert page.locator(".topbar nav a").first.get_attribute("href") == f"{prefix}/"
    box = page.locator("#map .nsewdrag").bounding_box()
    assert box is not None
    with page.expect_response(lambda r: "/decode.png" in r.url) as decoded:
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    hover: Response = decoded.value
    assert hover.url.startswith(f"{jupyter}{prefix}/api/") and hover.status == 200
    upload = tmp_path / "digit.png"
    upload.write_bytes(encode(digit_image(test_set.images, 3)))
    page.set_input_files("#upload", str(upload))
    expect(page.locator("#encoding p.muted").first).to_contain_text("#1 at")  # a POST through the proxy
    assert failed == []
