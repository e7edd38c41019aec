"""Training jobs through the API: a job's life with its events in order, a late subscriber, cancelling,
failures that leave the server serving, a restart that resumes, hot-loading, and the bounds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import job_runner
from app.deps import TRAINING_OFF
from app.job_runner import JobProcess
from app.main import create_app
from app.settings import Settings
from model.checkpoint import load_history, load_info
from model.config import ModelConfig, TrainConfig
from model.data import Dataset
from model.home import data_root, models_root
from model.job_queue import JobQueue, JobSpec
from tests.app.conftest import TEST_HOSTS
from tests.app.fault_job import FAULT_ENV
from tests.conftest import SUITE_JOBS, _free_port

# Seconds, not minutes: 2-D with one hidden layer of 32, on the first 500 training digits.
QUICK_JOB = {"model_id": "quick", "hidden": [32], "epochs": 2, "train_limit": 500}
FAULT_PROCESS = replace(SUITE_JOBS, command=(sys.executable, str(Path(__file__).with_name("fault_job.py"))))


def _home_with_mnist(home: Path, mnist_root: Path) -> Path:
    """`home` holding nothing but MNIST, prepared (linked from the session's test home)."""
    data_root(home).mkdir()
    (data_root(home) / "mnist").symlink_to(mnist_root / "mnist")
    return home


@pytest.fixture
def jobs_home(tmp_path: Path, mnist_root: Path, mnist: Dataset) -> Path:
    return _home_with_mnist(tmp_path, mnist_root)


def client_for(home: Path, **settings: Any) -> TestClient:
    """A server over `home` with training from the page on (unless `settings` say otherwise)."""
    defaults = {"training": True, "allowed_hosts": TEST_HOSTS, "job_process": SUITE_JOBS}
    return TestClient(create_app(Settings(home=home, device="cpu", **{**defaults, **settings})))


@pytest.fixture
def client(jobs_home: Path) -> Iterator[TestClient]:
    with client_for(jobs_home) as client:
        yield client


@pytest.fixture(scope="module")
def refusing_home(tmp_path_factory: pytest.TempPathFactory, mnist_root: Path, mnist: Dataset) -> Path:
    """A home for the tests of refused requests: no job is ever queued in it."""
    return _home_with_mnist(tmp_path_factory.mktemp("refusing-home"), mnist_root)


@pytest.fixture(scope="module")
def refusing(refusing_home: Path) -> Iterator[TestClient]:
    """One server for every refused request (they change nothing, so they can share it)."""
    with client_for(refusing_home) as client:
        yield client


def events(client: TestClient, job_id: int, last_event_id: int | None = None) -> list[dict[str, Any]]:
    """The job's Server-Sent Events until it ends, each as {"event", "id", "data"}."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    received: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with client.stream("GET", f"/api/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if current:
                    received.append(current)
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(": ")
                current[field] = json.loads(value) if field == "data" else value
    return received


def submit(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/jobs", json={**QUICK_JOB, **changes})
    assert response.status_code == 202, response.text
    return dict(response.json())


def first_epoch(client: TestClient, job_id: int) -> None:
    """Wait until the job has completed an epoch."""
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        for line in response.iter_lines():
            if line == "event: epoch":
                return


@pytest.mark.slow
def test_a_job_queues_trains_reports_each_epoch_and_is_served_when_done(client: TestClient) -> None:
    job = submit(client)
    assert (job["state"], job["model_id"], job["epochs"]) == ("queued", "quick", 2)
    received = events(client, job["id"])
    assert [e["event"] for e in received] == ["started", "epoch", "epoch", "done"]
    assert [int(e["id"]) for e in received] == [1, 2, 3, 4]
    started, *epochs, done = (e["data"] for e in received)
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(len(e["x"]) == len(e["y"]) == len(started["index"]) == len(started["label"]) for e in epochs)
    assert started["class_names"] == [str(digit) for digit in range(10)]
    # The events are the model's own record: the same losses as its history, epoch by epoch.
    history = client.get("/api/models/quick/history").json()["epochs"]
    assert [e["test_neg_elbo"] for e in epochs] == pytest.approx([h["test_neg_elbo"] for h in history])
    assert done["type"] == "done"
    # Hot-loaded: listed, mapped and decodable without a restart.
    assert "quick" in [m["id"] for m in client.get("/api/models").json()]
    assert client.get("/api/models/quick/map?limit=5").status_code == 200
    assert client.get("/api/models/quick/decode.png?x=0&y=0").headers["content-type"] == "image/png"
    ended = client.get(f"/api/jobs/{job['id']}").json()
    assert (ended["state"], ended["epochs_completed"]) == ("done", 2)

    # A subscriber that connects late gets what it missed after its Last-Event-ID, then the end.
    late = events(client, job["id"], last_event_id=2)
    assert [int(e["id"]) for e in late] == [3, 4]
    assert events(client, job["id"], last_event_id=4) == []


@pytest.mark.slow
def test_a_job_trains_the_iwae_bound_on_binarized_images(client: TestClient) -> None:
    job = submit(client, model_id="iwae-bin", loss="iwae", iwae_k=4, binarized=True)
    assert events(client, job["id"])[-1]["event"] == "done"
    served = {m["id"]: m for m in client.get("/api/models").json()}["iwae-bin"]
    assert (served["title"], served["objective"]) == ("IWAE, k = 4, 2-D latent", "IWAE, k = 4")
    assert (served["iwae_k"], served["binarized"]) == (4, True)


@pytest.mark.slow
def test_a_cancelled_job_keeps_its_complete_epochs_when_asked(client: TestClient) -> None:
    running = submit(client, model_id="stopped", epochs=200)
    waiting = submit(client, model_id="waiting")
    cancelled = client.delete(f"/api/jobs/{waiting['id']}")
    assert cancelled.json()["state"] == "cancelled"  # a queued job ends at once
    first_epoch(client, running["id"])
    stopping = client.delete(f"/api/jobs/{running['id']}?keep=true").json()
    assert (stopping["state"], stopping["cancelling"]) == ("running", True)
    end = events(client, running["id"])[-1]
    assert end["event"] == "cancelled"
    assert end["data"]["kept"] is True
    completed = end["data"]["epochs_completed"]
    assert 1 <= completed < 200
    served = {m["id"]: m for m in client.get("/api/models").json()}
    assert "stopped" in served and "waiting" not in served
    assert len(client.get("/api/models/stopped/history").json()["epochs"]) == completed
    # An ended job is removed from the list when deleted again; the model it kept stays served.
    assert client.delete(f"/api/jobs/{running['id']}").status_code == 204
    assert client.get(f"/api/jobs/{running['id']}").status_code == 404
    assert [job["id"] for job in client.get("/api/jobs").json()] == [waiting["id"]]
    assert "stopped" in {m["id"] for m in client.get("/api/models").json()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("nan", "the loss became nan in epoch 1; the weights diverged"),
        ("disk", "No space left on device (model.safetensors); the last complete epoch is kept"),
        ("crash", "the training process ended with signal 9"),
    ],
)
def test_a_failing_job_fails_alone_and_the_server_keeps_serving(
    jobs_home: Path, monkeypatch: pytest.MonkeyPatch, fault: str, message: str
) -> None:
    monkeypatch.setenv(FAULT_ENV, fault)
    with client_for(jobs_home, job_process=FAULT_PROCESS) as client:
        job = submit(client)
        end = events(client, job["id"])[-1]
        assert end["event"] == "failed"
        assert end["data"]["message"].startswith(message)
        assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "failed"
        assert client.get("/api/health").json()["status"] == "degraded"  # nothing served, nothing training
        assert client.get("/api/models").json() == []
        assert not (models_root(jobs_home) / "quick").exists()  # nothing half-written is served
        retry = submit(client)  # the queue runs on
        assert events(client, retry["id"])[-1]["event"] == "failed"


@pytest.mark.slow
def test_a_restarted_server_resumes_the_interrupted_job_from_its_last_epoch(jobs_home: Path) -> None:
    with client_for(jobs_home) as client:
        job = submit(client, epochs=6)
        first_epoch(client, job["id"])
    assert JobQueue(jobs_home).get(job["id"]).state == "running"  # type: ignore[union-attr]
    assert _job_process_of(os.getpid()) == []  # the stopping server started no other
    with client_for(jobs_home) as client:
        received = events(client, job["id"])
    kinds = [e["event"] for e in received]
    assert kinds.count("started") == 2 and kinds[-1] == "done"
    resumed_from = received[kinds.index("started", 1)]["data"]["epochs_completed"]
    assert resumed_from >= 1
    assert [e["data"]["epoch"] for e in received if e["event"] == "epoch"] == [1, 2, 3, 4, 5, 6]
    folder = models_root(jobs_home) / "quick"
    assert load_info(folder).epochs_completed == 6
    assert [record["epoch"] for record in load_history(folder)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"epochs": 0}, "field 'epochs': Input should be greater than or equal to 1"),
        ({"epochs": 201}, "field 'epochs': Input should be less than or equal to 200"),
        ({"latent_dim": 65}, "field 'latent_dim': Input should be less than or equal to 64"),
        ({"hidden": [4096]}, "field 'hidden.0': Input should be less than or equal to 2048"),
        ({"hidden": [8] * 5}, "field 'hidden': List should have at most 4 items after validation, not 5"),
        (
            {"model_id": "../up"},
            "field 'model_id': invalid model id '../up': use 1-64 lowercase letters, digits, '-' or '_'",
        ),
        (
            {"dataset": "cifar"},
            "unknown data set 'cifar'; prepared: mnist (`latent-atlas data --dataset NAME` adds one)",
        ),
        ({"beta": 4}, "beta=4.0 needs loss='beta', 'tcvae' or 'factorvae' (loss='full' fixes its weights)"),
        ({"hidden": [0]}, "field 'hidden.0': Input should be greater than or equal to 1"),
        (
            {"likelihood": "poisson"},
            "field 'likelihood': Input should be 'bernoulli', 'continuous-bernoulli', 'gaussian', "
            "'gaussian-learned' or 'logistic'",
        ),
        (
            {"likelihood": "logistic", "likelihood_scale": 0.1},
            "a scale is declared only for the 'gaussian' likelihood, not 'logistic'",
        ),
        (
            {"likelihood": "gaussian", "binarized": True},
            "binarized images are 0 or 1, scored by a Bernoulli likelihood, not 'gaussian': drop the "
            "likelihood or the binarization",
        ),
        (
            {"model_id": "taken"},
            "model 'taken' exists: choose another id, or ask to replace it (replace: true)",
        ),
    ],
)
def test_a_bad_training_request_is_refused_with_its_reason(
    refusing: TestClient, refusing_home: Path, change: dict[str, Any], detail: str
) -> None:
    (models_root(refusing_home) / "taken").mkdir(parents=True, exist_ok=True)
    response = refusing.post("/api/jobs", json={**QUICK_JOB, **change})
    assert (response.status_code, response.json()["detail"]) == (422, detail)
    assert refusing.get("/api/jobs").json() == []


def test_the_disentanglement_zoo_of_a_set_without_known_factors_is_refused(refusing: TestClient) -> None:
    response = refusing.post("/api/jobs/zoo", json={"zoo": "disentanglement", "dataset": "mnist"})
    assert (response.status_code, response.json()["detail"]) == (
        422,
        "zoo: the disentanglement zoo needs a data set of known factors (sprites); "
        "MNIST handwritten digits has none",
    )
    assert refusing.get("/api/jobs").json() == []


def test_a_full_queue_refuses_more(refusing: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_runner, "MAX_PENDING", 0)
    response = refusing.post("/api/jobs", json=QUICK_JOB)
    assert (response.status_code, response.json()["detail"]) == (
        422,
        "the queue is full (0 jobs waiting or running, at most 0): cancel one or wait for one to finish",
    )


def test_training_is_refused_when_it_is_off_and_from_other_sites(
    refusing_home: Path, refusing: TestClient
) -> None:
    with client_for(refusing_home, training=False) as off:
        response = off.post("/api/jobs", json=QUICK_JOB)
        assert (response.status_code, response.json()["detail"]) == (403, TRAINING_OFF)
        assert off.delete("/api/jobs/1").status_code == 403
        assert off.get("/api/jobs").json() == []  # reading stays open
    foreign = refusing.post("/api/jobs", json=QUICK_JOB, headers={"Origin": "http://elsewhere.example"})
    assert foreign.status_code == 403
    assert refusing.get("/api/jobs").json() == []


def test_an_unknown_job_is_a_404_naming_the_jobs(refusing: TestClient) -> None:
    response = refusing.get("/api/jobs/7/events")
    assert (response.status_code, response.json()["detail"]) == (404, "unknown job 7; jobs: none")


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.1)


def _serve_cli(home: Path, port: int) -> subprocess.Popen[bytes]:
    """`latent-atlas serve --quick` on `home`: it queues the quick zoo's missing models as jobs."""
    cli = Path(sys.executable).with_name("latent-atlas")
    command = [str(cli), "--home", str(home), "serve", "--quick", "--device", "cpu", "--port", str(port)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _job_process_of(server: int) -> list[int]:
    """The pids of the job processes `server` started (their command line names it as --parent)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = status.read_bytes().split(b"\0")
        except OSError:
            continue
        parent = words[words.index(b"--parent") + 1] if b"--parent" in words else b""
        if b"model.job_process" in words and parent == str(server).encode():
            found.append(int(status.parent.name))
    return found


def _niceness(pid: int) -> int:
    """A process's nice value, from /proc (field 19 of its stat line, counted after the command's name)."""
    after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(after_name[16])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the job process through /proc")
def test_a_killed_server_leaves_its_job_to_resume_on_the_next_start(jobs_home: Path) -> None:
    queue, port = JobQueue(jobs_home), _free_port()
    server = _serve_cli(jobs_home, port)
    try:
        _wait_for(lambda: queue.epochs_reported(1) >= 1, 120, "the first job's first epoch")
        workers = _job_process_of(server.pid)
        assert len(workers) == 1
        below = JobProcess().nice  # serve's default: training below the server
        assert below > 0 and _niceness(workers[0]) == _niceness(server.pid) + below
        server.kill()  # kill -9: no lifespan, no goodbye
        server.wait()
        # The job process sees its server gone and stops after its current step.
        _wait_for(lambda: not Path(f"/proc/{workers[0]}").exists(), 30, "the job process to stop")
        assert queue.get(1).state == "running"  # type: ignore[union-attr]
        server = _serve_cli(jobs_home, port)
        _wait_for(lambda: (queue.get(1) or queue.jobs()[0]).state == "done", 120, "the job to finish")
    finally:
        server.kill()
        server.wait()
    epochs = [e["epoch"] for e in queue.read_events(1)[0] if e["type"] == "epoch"]
    assert epochs == list(range(1, len(epochs) + 1)) == list(range(1, 4))  # each epoch once, none lost
    assert [job.spec.target for job in queue.jobs()].count("full-2d") == 1  # the restart queued no twin
    assert load_info(models_root(jobs_home) / "full-2d").epochs_completed == 3


def test_ended_jobs_past_the_bound_leave_the_list(jobs_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that runs no queue: each job stays queued until cancelled, which ends it at once."""
    monkeypatch.setattr(job_runner, "MAX_ENDED_JOBS", 2)
    with client_for(jobs_home, run_queue=False) as client:
        ids = [submit(client, model_id=f"m{number}")["id"] for number in range(4)]
        for job_id in ids:
            assert client.delete(f"/api/jobs/{job_id}").json()["state"] == "cancelled"
        assert [job["id"] for job in client.get("/api/jobs").json()] == ids[-2:]
        assert [event["event"] for event in events(client, ids[-1])] == ["cancelled"]


def test_an_ended_jobs_events_are_replayed_from_one_formatting(
    jobs_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replays of an ended job cost a slice of bytes, not a parse of its events file each (one client
    replaying it hundreds of times at once must not starve the others)."""
    queue = JobQueue(jobs_home)
    spec = JobSpec(
        kind="model",
        target="replayed",
        title="Replayed",
        dataset="mnist",
        model_config=ModelConfig(),
        train_config=TrainConfig(epochs=3),
    )
    job = queue.submit(spec)
    written = [queue.append_event(job.id, {"type": "started", "epochs": 3, "epochs_completed": 0})]
    written += [
        queue.append_event(job.id, {"type": "epoch", "epoch": epoch, "x": [0.5] * 1000})
        for epoch in (1, 2, 3)
    ]
    written.append(queue.append_event(job.id, {"type": "done", "message": ""}))
    queue.update(job, state="done")
    reads: list[int] = []
    real_read = JobQueue.read_events
    monkeypatch.setattr(JobQueue, "read_events", lambda self, *a: reads.append(1) or real_read(self, *a))
    with client_for(jobs_home, run_queue=False) as client:
        for _ in range(3):
            assert [e["data"] for e in events(client, job.id)] == written
        assert [int(e["id"]) for e in events(client, job.id, last_event_id=2)] == [3, 4, 5]
        assert events(client, job.id, last_event_id=5) == []
    assert len(reads) == 1
