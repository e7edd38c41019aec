"""What the web stack costs before any model work: the decode.png load of serve_latency.py against
three stand-in apps that answer 200 bytes at the same path, each adding a layer of the real app:

  bare         FastAPI with one endpoint (the floor of FastAPI + uvicorn with this client on this machine)
  middlewares  + the real app's Host check, browser security and body limit middlewares (add_middlewares)
  deps         + its model dependency, the route's declared query parameters and cache header

Compare with `python bench/serve_latency.py --endpoints decode.png`, the real app.

Usage: python bench/serve_floor.py [--requests 5000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

from fastapi import FastAPI, Query, Response
from pydantic import FiniteFloat
from serve_latency import HOST, free_port, load, percentile, workloads

from app.deps import ModelDep
from app.main import add_middlewares
from app.params import Numbers
from app.settings import Settings

PATH = "/api/models/{model_id}/decode.png"
BODY = b"x" * 200  # about the size of a decoded digit's PNG


def bare() -> FastAPI:
    app = FastAPI()

    @app.get(PATH)
    async def decode_png(model_id: str) -> Response:
        return Response(BODY, media_type="image/png")

    return app


def _with_middlewares(app: FastAPI) -> FastAPI:
    add_middlewares(app, Settings(home=Path()))  # the home is unused: nothing is loaded
    return app


def middlewares() -> FastAPI:
    return _with_middlewares(bare())


def deps() -> FastAPI:
    app = _with_middlewares(FastAPI())
    app.state.registry = SimpleNamespace(models={"full-2d": object()})  # what get_model reads

    @app.get(PATH)
    async def decode_png(
        served: ModelDep,
        x: Annotated[FiniteFloat | None, Query()] = None,
        y: Annotated[FiniteFloat | None, Query()] = None,
        z: Annotated[Numbers | None, Query()] = None,
    ) -> Response:
        return Response(BODY, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})

    return app


def serve(variant: str, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", f"serve_floor:{variant}", "--factory"]
    command += ["--app-dir", str(Path(__file__).parent), "--host", HOST, "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning", "--no-access-log"])
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/api/models/full-2d/decode.png?x=0&y=0", timeout=1)
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"the {variant} app did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    make, _ = workloads("full-2d")["decode.png"]
    print(f"{'app':<14}{'conc':>5}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    for variant in ("bare", "middlewares", "deps"):
        port = free_port()
        process = serve(variant, port)
        try:
            latencies, errors, wall = asyncio.run(load(port, make, args.requests, args.concurrency))
        finally:
            process.terminate()
            process.wait(timeout=30)
        ms = [1000 * value for value in latencies]
        print(
            f"{variant:<14}{args.concurrency:>5}{errors:>7}{percentile(ms, 50):>9.2f}"
            f"{percentile(ms, 95):>9.2f}{percentile(ms, 99):>9.2f}{len(ms) / wall:>9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
