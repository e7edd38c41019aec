"""Hovering while a model trains: decode.png latency at 8 concurrent with no job and with a training job
running, in one run; how late each epoch's event reaches a subscriber; and the server's memory before
the job and after it.

It serves a temporary home holding your MNIST and a copy of your full-2d (`make zoo` makes them), queues
one job over the API (the default 2-D model, --epochs of full MNIST) and follows its Server-Sent Events.

Usage: python bench/train_while_serving.py [--requests 4000] [--epochs 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from serve_latency import HOST, free_port, load, percentile, start_server, workloads

from model.home import atlas_home, data_root, models_root

MODEL = "full-2d"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def decode_latency(port: int, requests: int) -> tuple[float, float, int]:
    """-> p50 ms, p99 ms, errors of decode.png at 8 concurrent."""
    make, _ = workloads(MODEL)["decode.png"]
    latencies, errors, _ = asyncio.run(load(port, make, requests, 8))
    ms = [1000 * value for value in latencies]
    return percentile(ms, 50), percentile(ms, 99), errors


class EventDelays(threading.Thread):
    """Follows a job's events: for each epoch, seconds from its end (the event's `at`) to its arrival."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.delays: list[float] = []
        self.first_epoch = threading.Event()
        self.ended = threading.Event()

    def run(self) -> None:
        with urllib.request.urlopen(self.url, timeout=600) as stream:
            for raw in stream:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data: "):
                    continue
                event = json.loads(line.removeprefix("data: "))
                if event["type"] == "epoch":
                    self.delays.append(time.time() - event["at"])
                    self.first_epoch.set()
                if event["type"] in ("done", "failed", "cancelled"):
                    self.ended.set()
                    return


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000, help="decode.png requests per phase")
    parser.add_argument("--epochs", type=int, default=12, help="the job's epochs: it must outlast a phase")
    args = parser.parse_args()
    user_home = atlas_home()
    with tempfile.TemporaryDirectory(prefix="latent-atlas-bench-") as scratch:
        home = Path(scratch)
        data_root(home).mkdir()
        (data_root(home) / "mnist").symlink_to(data_root(user_home) / "mnist")
        shutil.copytree(models_root(user_home) / MODEL, models_root(home) / MODEL)
        port = free_port()
        server, _ = start_server(port, home)
        base = f"http://{HOST}:{port}"
        try:
            decode_latency(port, 500)  # warm up
            before = rss_mib(server.pid)
            idle = decode_latency(port, args.requests)
            body = json.dumps({"model_id": "bench-job", "epochs": args.epochs}).encode()
            submit = urllib.request.Request(
                f"{base}/api/jobs", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(submit) as response:
                job = json.load(response)
            events = EventDelays(f"{base}/api/jobs/{job['id']}/events")
            events.start()
            events.first_epoch.wait(300)
            training = decode_latency(port, args.requests)
            still_running = not events.ended.is_set()
            events.ended.wait(900)
            time.sleep(2)
            after = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait()
    print(f"{'decode.png, 8 concurrent':<32}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, (p50, p99, errors) in (("no job", idle), ("a job training", training)):
        print(f"{name:<32}{p50:>9.2f}{p99:>9.2f}{errors:>8}")
    if not still_running:
        print("(the job ended before the phase did: raise --epochs)")
    delays = sorted(events.delays)
    print(
        f"epoch events: {len(delays)}, from an epoch's end to the subscriber: median "
        f"{1000 * delays[len(delays) // 2]:.0f} ms, max {1000 * delays[-1]:.0f} ms"
    )
    print(f"server memory: {before:.0f} MiB before the job, {after:.0f} MiB after ({after / before:.3f}x)")


if __name__ == "__main__":
    main()
