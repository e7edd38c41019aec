"""A bounded soak: 60 s of mixed traffic against `latent-atlas serve` on 127.0.0.1, then errors, latency
percentiles and the server's memory before and after.

Usage: python bench/serve_load.py [--seconds 60] [--concurrency 16]
(needs the default models under $LATENT_ATLAS_HOME; traffic goes to 127.0.0.1 only and stops by itself)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from pathlib import Path

from serve_latency import HOST, Request, free_port, percentile, send, start_server, workloads


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(port: int, seconds: float, concurrency: int) -> tuple[list[float], Counter[int]]:
    makers = workloads("full-2d")
    # Mostly hover decodes, as a browser session sends, plus every other kind and some bad requests.
    mix = [
        ("decode.png", 0.6),
        ("encode (PNG upload)", 0.15),
        ("interpolate (16 steps)", 0.1),
        ("decode (64 points)", 0.05),
        ("map (10,000 points)", 0.02),
        ("bad", 0.08),
    ]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds

    def bad(rng: random.Random) -> Request:
        return "GET", f"/api/models/full-2d/decode.png?x={rng.choice(['nan', '1e308', 'x'])}&y=0", b"", ""

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(HOST, port)
        while time.perf_counter() < deadline:
            name = rng.choices([m for m, _ in mix], weights=[w for _, w in mix])[0]
            request = bad(rng) if name == "bad" else makers[name][0](rng)
            began = time.perf_counter()
            statuses[await send(reader, writer, request)] += 1
            latencies.append(time.perf_counter() - began)
        writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    process, startup = start_server(port)
    try:
        before = rss_mb(process.pid)
        latencies, statuses = asyncio.run(soak(port, args.seconds, args.concurrency))
        after = rss_mb(process.pid)
        alive = process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=30)
    ms = [1000 * value for value in latencies]
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    print(
        f"server healthy {startup:.2f} s after launch; {args.concurrency} connections, {args.seconds:.0f} s"
    )
    print(f"requests: {len(ms)} ({len(ms) / args.seconds:.0f}/s), statuses: {dict(sorted(statuses.items()))}")
    print(f"latency ms: p50 {p50:.2f}, p95 {p95:.2f}, p99 {p99:.2f}")
    print(f"server memory: {before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB)")
    print(
        f"server_errors={server_errors} alive={alive} p99_ms={p99:.2f} memory_growth_mb={after - before:.0f}"
    )


if __name__ == "__main__":
    main()
