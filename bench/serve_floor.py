"""What the web stack costs before any model work: the decode.png load of serve_latency.py against
three stand-in apps that answer 200 bytes at the same path, each adding a layer of the real app:

  bare         FastAPI with one endpoint (the floor of FastAPI + uvicorn with this client on this machine)
  middlewares  + the real app's Host check, browser security and body limit middlewares
  deps         + its model dependency, query parsing and cache header

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
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from serve_latency import HOST, free_port, load, percentile, workloads
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app.images import MAX_BODY_BYTES
from app.limits import BodySizeLimit
from app.security import BrowserSecurity
from app.settings import LOCAL_HOSTS
from app.validation import query_number

PATH = "/api/models/{model_id}/decode.png"
BODY = b"x" * 200  # about the size of a decoded digit's PNG


def bare() -> FastAPI:
    app = FastAPI()

    @app.get(PATH)
    async def decode_png(model_id: str) -> Response:
        return Response(BODY, media_type="image/png")

    return app


def _with_middlewares(app: FastAPI) -> FastAPI:
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(BrowserSecurity)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=[h.strip("[]") for h in LOCAL_HOSTS])
    return app


def middlewares() -> FastAPI:
    return _with_middlewares(bare())


async def get_model(request: Request, model_id: str) -> object:
    models: dict[str, object] = request.app.state.models
    return models[model_id]


def deps() -> FastAPI:
    app = _with_middlewares(FastAPI())
    app.state.models = {"full-2d": object()}

    @app.get(PATH)
    async def decode_png(served: Annotated[object, Depends(get_model)], request: Request) -> Response:
        query = request.query_params  # parsed as the real route parses it; the values go unused here
        _ = query_number(query, "x"), query_number(query, "y"), query.get("z")
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
