"""One client replaying a finished job's event stream many times at once, against everyone else: hover
decodes (decode.png, one at a time, as a page sends them) timed alone, then for --seconds while N
connections replay the whole stream over and over (each starts again when its replay ends).

The server is `latent-atlas serve` (one worker, --threads 1) on a home of its own: the default models and
classifier of $LATENT_ATLAS_HOME linked in (so it has nothing to train) and one ended job whose events
weigh about what a 35-epoch job's do (~425 KB: each epoch's record with 1,000 snapshot points).

Usage: python bench/event_replays.py [--streams 300] [--rounds 3] [--epochs 35] [--home DIR]
(needs the default models under $LATENT_ATLAS_HOME: `make zoo`; traffic goes to 127.0.0.1 only). It says
where it built its home; --home reuses one, e.g. to measure another commit's server on the same files
(PYTHONPATH=that/checkout: only the server's code and serve_latency.py's are imported then).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from serve_latency import HOST, free_port, percentile, send, start_server

SNAPSHOT_POINTS = 1000
JOB_ID = 1  # the ended job, the first of its home


def home_with_an_ended_job(epochs: int) -> Path:
    """A new home linking the user's data, default models and classifier, with one ended job of `epochs`
    epochs. (Imported here: with --home the bench needs nothing of this checkout's model.)"""
    from model.config import ModelConfig, TrainConfig
    from model.home import atlas_home, classifier_folder, data_root, models_root
    from model.job_queue import JobQueue, JobSpec
    from model.zoo import DEFAULT_ZOO

    source, home = atlas_home(), Path(tempfile.mkdtemp(prefix="replays-home-"))
    data_root(home).symlink_to(data_root(source))
    models_root(home).mkdir()
    for entry in DEFAULT_ZOO:
        (models_root(home) / entry.model_id).symlink_to(models_root(source) / entry.model_id)
    classifier_folder(home, "mnist").parent.mkdir()
    classifier_folder(home, "mnist").symlink_to(classifier_folder(source, "mnist"))
    queue = JobQueue(home)
    spec = JobSpec(
        kind="model",
        target="replayed",
        title="Replayed",
        dataset="mnist",
        model_config=ModelConfig(),
        train_config=TrainConfig(epochs=epochs),
    )
    job = queue.submit(spec)
    rng = random.Random(0)
    points = range(SNAPSHOT_POINTS)
    started = {"type": "started", "epochs": epochs, "epochs_completed": 0, "latent_dim": 2}
    queue.append_event(job.id, {**started, "index": list(points), "label": [i % 10 for i in points]})
    for epoch in range(1, epochs + 1):
        record = {"epoch": epoch, "test_neg_elbo": 150.0 - epoch, "images_per_second": 20_000.0}
        xy = {axis: [round(rng.gauss(0, 1), 3) for _ in points] for axis in ("x", "y")}
        queue.append_event(job.id, {"type": "epoch", "at": time.time(), "epochs": epochs, **record, **xy})
    queue.append_event(job.id, {"type": "done", "message": ""})
    queue.update(job, state="done")
    return home


async def replay(port: int, path: str) -> int:
    """Read the whole event stream once, on a connection of its own: -> bytes received."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    received = 0
    while chunk := await reader.read(1 << 16):
        received += len(chunk)
    writer.close()
    return received


async def hover_decodes(port: int, until: asyncio.Future[None] | None, count: int) -> list[float]:
    """decode.png latencies in seconds, one request at a time: `count` of them, or until `until` is done."""
    rng = random.Random(1)
    reader, writer = await asyncio.open_connection(HOST, port)
    latencies: list[float] = []
    while (until is None and len(latencies) < count) or (until is not None and not until.done()):
        path = f"/api/models/full-2d/decode.png?x={rng.uniform(-3, 3):.4f}&y={rng.uniform(-3, 3):.4f}"
        began = time.perf_counter()
        await send(reader, writer, ("GET", path, b"", ""))
        latencies.append(time.perf_counter() - began)
    writer.close()
    return latencies


async def under_replays(port: int, path: str, streams: int, seconds: float) -> tuple[list[float], int, int]:
    """-> decode latencies while `streams` connections replay for `seconds`, the replays completed and
    the bytes they received (a replay under way at the deadline is finished, and counted)."""
    deadline = time.perf_counter() + seconds
    counts = [0, 0]  # replays, bytes

    async def replaying() -> None:
        while time.perf_counter() < deadline:
            received = await replay(port, path)
            counts[0] += 1
            counts[1] += received

    replays = asyncio.gather(*(replaying() for _ in range(streams)))
    latencies = await hover_decodes(port, replays, 0)
    await replays
    return latencies, counts[0], counts[1]


def summary(latencies: list[float]) -> str:
    ms = [1000 * value for value in latencies]
    return (
        f"{len(ms):>6} decodes  p50 {percentile(ms, 50):7.1f} ms  p99 {percentile(ms, 99):7.1f} ms  "
        f"max {max(ms):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=300, help="replays at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="of replays in each round")
    parser.add_argument("--epochs", type=int, default=35, help="of the ended job whose events are replayed")
    parser.add_argument("--home", type=Path, help="a home an earlier run built (its job 1 is replayed)")
    args = parser.parse_args()
    home = args.home or home_with_an_ended_job(args.epochs)
    size = (home / "jobs" / str(JOB_ID) / "events.jsonl").stat().st_size
    port = free_port()
    process, _ = start_server(port, home, ("--no-training", "--threads", "1"))
    path = f"/api/jobs/{JOB_ID}/events"
    try:
        print(f"home {home}: an ended job's events, {size / 1024:.0f} KB; {args.streams} replays at once")
        for round_number in range(1, args.rounds + 1):
            alone = asyncio.run(hover_decodes(port, None, 300))
            began = time.perf_counter()
            latencies, replays, received = asyncio.run(under_replays(port, path, args.streams, args.seconds))
            seconds = time.perf_counter() - began
            print(f"round {round_number}: alone         {summary(alone)}")
            print(
                f"round {round_number}: under replays {summary(latencies)}  "
                f"({replays} replays, {received / 1e6:.0f} MB, in {seconds:.1f} s)",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
