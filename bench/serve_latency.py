"""Serving latency: start `latent-atlas serve` on 127.0.0.1 and send it a bounded load.

For decode.png, batch decode, encode (a PNG upload), interpolate and map, at each concurrency, it sends a
fixed number of requests over keep-alive connections and prints p50/p95/p99 latency and requests/s. The
client is a minimal asyncio HTTP/1.1 client, so that it costs the two cores as little as possible.

Usage: python bench/serve_latency.py [--requests 5000] [--concurrency 1,8,32] [--endpoints decode.png,encode]
       [--workers 1]
(needs the default models under $LATENT_ATLAS_HOME: `make zoo`; traffic goes to 127.0.0.1 only)
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from model.data import load_prepared
from model.home import atlas_home, data_root

HOST = "127.0.0.1"
Request = tuple[str, str, bytes, str]  # method, path, body, content type


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(
    port: int, home: Path | None = None, options: tuple[str, ...] = (), workers: int = 1
) -> tuple[subprocess.Popen[bytes], float]:
    """-> the server process (on `home`, default the user's, with serve's `options` and `workers`) and the
    seconds from launch to a healthy /api/health from every worker."""
    cli = Path(sys.executable).with_name("latent-atlas")
    began = time.perf_counter()
    homes = ["--home", str(home)] if home is not None else []
    process = subprocess.Popen(
        [str(cli), *homes, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = began + 600
    answered: set[int] = set()
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/api/health", timeout=1) as response:
                health = json.load(response)
            if health["status"] == "ok":
                answered.add(health["process"])
            if len(answered) == workers:
                return process, time.perf_counter() - began
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not become healthy within 600 s")


async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request) -> int:
    method, path, body, content_type = request
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def load(
    port: int, make: Callable[[random.Random], Request], total: int, concurrency: int
) -> tuple[list[float], int, float]:
    """-> latencies in seconds, error count, wall seconds."""
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def worker(seed: int) -> None:
        nonlocal remaining, errors
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(HOST, port)
        while remaining > 0:
            remaining -= 1
            began = time.perf_counter()
            status = await send(reader, writer, make(rng))
            latencies.append(time.perf_counter() - began)
            errors += status != 200
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, errors, time.perf_counter() - began


def multipart(png: bytes) -> tuple[bytes, str]:
    boundary = "latentatlasbench"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="digit.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def workloads(model: str) -> dict[str, tuple[Callable[[random.Random], Request], float]]:
    """name -> (request maker, share of --requests)."""
    digits = load_prepared(data_root(atlas_home()), "mnist").test
    uploads = []
    for index in range(50):
        buffer = io.BytesIO()
        Image.fromarray(255 - digits.images[index, 0].numpy()).resize((140, 140)).save(buffer, format="PNG")
        uploads.append(multipart(buffer.getvalue()))
    base = f"/api/models/{model}"

    def decode_png(rng: random.Random) -> Request:
        return "GET", f"{base}/decode.png?x={rng.uniform(-3, 3):.4f}&y={rng.uniform(-3, 3):.4f}", b"", ""

    def batch_decode(rng: random.Random) -> Request:
        points = [[rng.uniform(-3, 3), rng.uniform(-3, 3)] for _ in range(64)]
        return "POST", f"{base}/decode", json.dumps({"points": points}).encode(), "application/json"

    def encode(rng: random.Random) -> Request:
        body, content_type = rng.choice(uploads)
        return "POST", f"{base}/encode", body, content_type

    def interpolate(rng: random.Random) -> Request:
        ends = {
            "start": {"index": rng.randrange(10_000)},
            "end": {"index": rng.randrange(10_000)},
            "steps": 16,
        }
        return "POST", f"{base}/interpolate", json.dumps(ends).encode(), "application/json"

    def latent_map(rng: random.Random) -> Request:
        return "GET", f"{base}/map", b"", ""

    return {
        "decode.png": (decode_png, 1.0),
        "decode (64 points)": (batch_decode, 0.2),
        "encode (PNG upload)": (encode, 0.2),
        "interpolate (16 steps)": (interpolate, 0.2),
        "map (10,000 points)": (latent_map, 0.04),
    }


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=5000, help="requests per decode.png run; others scaled"
    )
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--model", default="full-2d")
    parser.add_argument(
        "--endpoints", help="comma-separated subset by first word, e.g. decode.png,encode (default: all)"
    )
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    port = free_port()
    process, startup = start_server(port, workers=args.workers)
    try:
        print(
            f"server healthy {startup:.2f} s after launch (pid {process.pid}, {args.workers} worker(s), "
            f"{os.cpu_count()} CPUs)"
        )
        columns = ("conc", 5), ("requests", 9), ("errors", 7), ("p50 ms", 9), ("p95 ms", 9), ("p99 ms", 9)
        print(f"{'endpoint':<24}" + "".join(f"{name:>{width}}" for name, width in columns) + f"{'req/s':>9}")
        chosen = workloads(args.model)
        if args.endpoints:
            wanted = set(args.endpoints.split(","))
            chosen = {name: load for name, load in chosen.items() if name.split()[0] in wanted}
        for name, (make, share) in chosen.items():
            total = max(50, int(args.requests * share))
            for concurrency in levels:
                latencies, errors, wall = asyncio.run(load(port, make, total, concurrency))
                ms = [1000 * value for value in latencies]
                print(
                    f"{name:<24}{concurrency:>5}{len(ms):>9}{errors:>7}{percentile(ms, 50):>9.2f}"
                    f"{percentile(ms, 95):>9.2f}{percentile(ms, 99):>9.2f}{len(ms) / wall:>9.0f}",
                    flush=True,
                )
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
