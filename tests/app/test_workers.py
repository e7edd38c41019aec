"""`serve --workers 2`: two server processes on one port answer alike, and a training job submitted to
either runs once and is then served by both. Its workers start slowly, as on a busy machine: uvicorn's
supervisor must wait for them rather than kill and restart them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from model.home import classifier_folder, data_root, models_root
from model.job_queue import JobQueue
from model.zoo import zoo_entries
from tests.app.test_jobs import QUICK_JOB
from tests.conftest import _free_port

ASKS = 48  # requests of each kind, eight at a time on connections of their own
pytestmark = pytest.mark.slow
SLOW_START = Path(__file__).with_name("slow_start")  # its sitecustomize delays each spawned worker

Workers = tuple[str, Path, set[int]]  # the server's URL, its home and the pids of the workers that answered


@pytest.fixture(scope="module")
def workers(quick_zoo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """`latent-atlas serve --workers 2` over a home of the quick zoo's default models, each worker slow to
    start. With every default model there, the server trains none in the background, so a job runs at once."""
    home = tmp_path_factory.mktemp("workers-home")
    data_root(home).symlink_to(data_root(quick_zoo))
    for entry in zoo_entries(quick=True, device="cpu"):
        shutil.copytree(models_root(quick_zoo) / entry.model_id, models_root(home) / entry.model_id)
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    port = _free_port()
    command = [sys.executable, "-m", "app.cli", "--home", str(home), "serve", "--port", str(port)]
    log = home / "server.log"
    python_path = os.pathsep.join(filter(None, (str(SLOW_START), os.environ.get("PYTHONPATH"))))
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "--workers", "2", "--device", "cpu"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": python_path},
            start_new_session=True,  # its workers in its process group: a failed start kills them too
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while len(pids := _answering(url)) < 2:  # each worker starts serving once it has loaded every model
        if server.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):  # the whole group may have exited already
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            pytest.fail(f"serve --workers 2 did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    yield url, home, pids
    server.terminate()
    server.wait(timeout=30)


def _answering(url: str) -> set[int]:
    """The pids of the workers that answered /api/health."""
    try:
        return {health["process"] for health in health_of_many(url)}
    except httpx.HTTPError:
        return set()


def ask_many(method: str, url: str, **request: Any) -> list[tuple[int, bytes]]:
    """The same request ASKS times, each on a new connection, eight at a time: -> (status, body) each."""

    def ask(_: int) -> tuple[int, bytes]:
        response = httpx.request(method, url, timeout=30, **request)
        return response.status_code, response.content

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(ask, range(ASKS)))


def health_of_many(url: str) -> list[dict[str, Any]]:
    """/api/health, asked ASKS times (eight at a time), so both workers answer some."""
    return [json.loads(body) for _, body in ask_many("GET", f"{url}/api/health")]


def test_two_workers_share_the_port_and_answer_alike(workers: Workers) -> None:
    url, _, pids = workers
    assert {health["process"] for health in health_of_many(url)} == pids  # the same two: none restarted
    for method, path, request in (
        ("GET", "/api/models", {}),
        ("GET", "/api/models/full-2d/map", {}),
        ("GET", "/api/models/full-16d/decode.png", {"params": {"z": ",".join(["0.5"] * 16)}}),
        ("POST", "/api/models/full-2d/interpolate", {"json": {"start": {"index": 1}, "end": {"index": 7}}}),
    ):
        answers = ask_many(method, f"{url}{path}", **request)
        assert {status for status, _ in answers} == {200}, answers[0]
        assert len({body for _, body in answers}) == 1, path


def test_a_job_runs_once_and_every_worker_serves_its_model(workers: Workers) -> None:
    url, home, pids = workers
    response = httpx.post(f"{url}/api/jobs", json={**QUICK_JOB, "model_id": "by-a-worker"}, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    deadline = time.monotonic() + 180
    while (job := JobQueue(home).get(job_id)) is None or not job.ended_state:
        assert time.monotonic() < deadline, "the job did not end"
        time.sleep(0.5)
    assert job.state == "done", job.message
    events, _ = JobQueue(home).read_events(job_id)
    assert [event["type"] for event in events].count("started") == 1  # one worker ran it, once
    # Within a second or two every worker serves it: the one that ran it, and the one that followed.
    deadline = time.monotonic() + 30
    while True:
        health = health_of_many(url)
        serving = {body["process"] for body in health if "by-a-worker" in body["models"]}
        if serving == pids and all("by-a-worker" in body["models"] for body in health):
            break
        assert time.monotonic() < deadline, f"served by {serving} only"
        time.sleep(0.5)
