"""The lab's endpoints against the quick zoo: evaluation, history, snapshots, decision map, sweep."""

import asyncio
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from app import lab_state
from app.main import create_app
from app.settings import Settings
from model.data import ImageSet
from model.evaluation import EVALUATION_FILE, Evaluation, cached_evaluation
from model.home import classifier_folder, data_root, models_root
from model.zoo import QUICK_EPOCHS
from tests.app.conftest import TEST_HOSTS
from tests.conftest import TEST_EVALUATION


def test_evaluation_is_computed_once_then_served_from_beside_the_model(
    client: TestClient, quick_zoo: Path
) -> None:
    not_yet = client.get("/api/models/recon-2d/evaluation?compute=false")
    assert not_yet.status_code == 204 and not_yet.content == b""
    body = client.get("/api/models/recon-2d/evaluation").json()
    expected = {
        "elbo",
        "iwae",
        "kl_per_dim",
        "active_units",
        "fid_prior",
        "fid_aggregate",
        "fid_reconstruction",
    }
    assert expected | {"reconstruction_accuracy", "elbo_gap", "model_id"} <= body.keys()
    assert body["test_images"] == TEST_EVALUATION.test_limit and body["iwae_k"] == TEST_EVALUATION.iwae_k
    assert body["iwae"] >= body["elbo"] - 0.5 and body["fid_data"] < body["fid_reconstruction"]
    assert (models_root(quick_zoo) / "recon-2d" / EVALUATION_FILE).is_file()
    assert client.get("/api/models/recon-2d/evaluation?compute=false").json() == body


def test_evaluation_ranks_the_full_elbo_above_kl_only(client: TestClient) -> None:
    full, kl_only = (client.get(f"/api/models/{m}/evaluation").json() for m in ("full-2d", "kl-2d"))
    assert full["elbo"] > kl_only["elbo"] and full["fid_prior"] < kl_only["fid_prior"]
    # KL-only decodes every digit to the same average: its reconstructions keep a digit by chance only.
    assert full["reconstruction_accuracy"] > 2 * kl_only["reconstruction_accuracy"]
    assert kl_only["reconstruction_accuracy"] < 0.2
    # The gaps measured exactly over the first digits: a KL divergence, never below zero (up to the noise
    # of the ELBO's two draws), and wide for the full ELBO's 2-D q.
    assert full["exact_images"] == kl_only["exact_images"] == TEST_EVALUATION.exact_limit
    assert kl_only["exact_gap"] > -0.3 and full["exact_gap"] > 1
    assert client.get("/api/models/nope/evaluation").status_code == 404


def test_without_a_classifier_the_judged_endpoints_say_how_to_get_one(
    quick_zoo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(models_root(quick_zoo) / "full-2d", models_root(home) / "full-2d")
    with TestClient(create_app(Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS))) as client:
        for path in ("evaluation", "decision-map"):
            response = client.get(f"/api/models/full-2d/{path}")
            assert response.status_code == 503
            assert "latent-atlas train --zoo" in response.json()["detail"]
        assert client.get("/api/health").json()["status"] == "ok"


def test_history_has_one_record_per_epoch_with_the_elbo_parts(client: TestClient) -> None:
    body = client.get("/api/models/full-2d/history").json()
    assert [record["epoch"] for record in body["epochs"]] == list(range(1, QUICK_EPOCHS + 1))
    for record in body["epochs"]:
        parts = record["test_reconstruction_nll"] + record["test_kl"]
        assert record["test_neg_elbo"] == pytest.approx(parts)
    assert body["epochs"][-1]["train_neg_elbo"] < body["epochs"][0]["train_neg_elbo"]


def test_snapshots_end_where_the_map_is(client: TestClient, test_set: ImageSet) -> None:
    body = client.get("/api/models/full-16d/snapshots").json()
    assert body["epochs"] == list(range(1, QUICK_EPOCHS + 1))
    assert len(body["index"]) == 1000 and len(body["x"]) == QUICK_EPOCHS and len(body["x"][0]) == 1000
    assert body["label"] == test_set.labels[body["index"]].tolist()
    final = client.get("/api/models/full-16d/map").json()
    for k in (0, 500, 999):
        assert body["x"][-1][k] == pytest.approx(final["x"][body["index"][k]], abs=2e-3)
        assert body["y"][-1][k] == pytest.approx(final["y"][body["index"][k]], abs=2e-3)


def test_decision_map_reads_each_digit_where_it_is_encoded(client: TestClient) -> None:
    decision = client.get("/api/models/full-2d/decision-map?n=64").json()
    labels = torch.tensor(decision["label"])
    assert labels.shape == (64, 64) and int(labels.min()) >= 0 and int(labels.max()) <= 9
    assert all(0 < c <= 1 for row in decision["confidence"] for c in row)
    points = client.get("/api/models/full-2d/map?limit=1000").json()
    x, y = torch.tensor(decision["x"]), torch.tensor(decision["y"])
    column = (x[None, :] - torch.tensor(points["x"])[:, None]).abs().argmin(dim=1)
    row = (y[None, :] - torch.tensor(points["y"])[:, None]).abs().argmin(dim=1)
    read, truth = labels[row, column], torch.tensor(points["label"])
    agreement = (read == truth).float().mean()
    by_chance = (
        read == truth[torch.randperm(len(truth), generator=torch.Generator().manual_seed(0))]
    ).float()
    # ImageSet sit in the region that decodes to their own class far more often than chance would put them
    # (the quick models' blurry decodes keep about a third of the digits; full-2d proper keeps 76%).
    assert agreement > 0.25 and agreement > 2.5 * by_chance.mean()


def test_decision_map_follows_a_requested_view_and_rejects_bad_ones(client: TestClient) -> None:
    body = client.get("/api/models/full-2d/decision-map?n=3&x_range=-1,1&y_range=0,2").json()
    assert body["x"] == [-1.0, 0.0, 1.0] and body["y"] == [0.0, 1.0, 2.0]
    for query, start in (
        ("n=1", "query parameter 'n'"),
        ("x_range=2,1", "query parameter 'x_range': expected two numbers 'low,high' with low < high"),
        ("y_range=0,99", "y_range: coordinate 1 is 99; |coordinates| must be <= 10"),
    ):
        response = client.get(f"/api/models/full-2d/decision-map?{query}")
        assert response.status_code == 422 and response.json()["detail"].startswith(start), query


def test_sweep_traces_rate_against_distortion(client: TestClient) -> None:
    body = client.get("/api/sweep").json()
    ids = [p["model_id"] for p in body["points"]]
    assert ids == [
        "recon-2d", "beta-0p1-2d", "beta-0p5-2d", "full-2d", "beta-2-2d", "beta-4-2d", "beta-8-2d", "kl-2d"
    ]  # fmt: skip
    trained = [p for p in body["points"] if p["trained"]]
    assert [p["model_id"] for p in trained] == ["recon-2d", "full-2d", "beta-4-2d", "kl-2d"]
    assert [p["beta"] for p in trained] == [0.0, 1.0, 4.0, None]
    rates = [p["rate"] for p in trained]
    distortions = [p["distortion"] for p in trained]
    assert rates == sorted(rates, reverse=True) and distortions == sorted(distortions)  # the trade-off
    assert body["command"] == "latent-atlas train --zoo beta"


def test_concurrent_evaluation_requests_share_one_computation(
    quick_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    shutil.copytree(models_root(quick_zoo) / "full-16d", models_root(home) / "full-16d")
    (models_root(home) / "full-16d" / EVALUATION_FILE).unlink(missing_ok=True)
    calls = []

    def slow_evaluation(*args: object, **kwargs: object) -> Evaluation:
        calls.append(1)
        time.sleep(0.5)  # long enough for every request to arrive while it runs
        return cached_evaluation(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lab_state, "cached_evaluation", slow_evaluation)
    settings = Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION)
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: client.get("/api/models/full-16d/evaluation"), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.content for r in responses}) == 1 and len(calls) == 1


@pytest.mark.parametrize("stopped_by", ["cancel", "server"])
def test_a_running_evaluation_stops_when_asked(
    stopped_by: str, quick_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DELETE, or the server stopping, ends a running evaluation at its next batch; the request waiting for
    it answers 409 saying why."""
    home = tmp_path / "home"
    data_root(home).parent.mkdir(parents=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    shutil.copytree(models_root(quick_zoo) / "full-16d", models_root(home) / "full-16d")

    def endless(*args: object, progress: Callable[[str, float], None], **kwargs: object) -> Evaluation:
        while True:  # an evaluation that would never end by itself: batch after batch
            progress("IWAE bound", 0.25)
            time.sleep(0.02)

    monkeypatch.setattr(lab_state, "cached_evaluation", endless)
    settings = Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION)
    url = "/api/models/full-16d/evaluation"
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(1) as pool:
        lab = client.app.state.lab  # type: ignore[attr-defined]
        idle = client.get(f"{url}/progress").text
        assert idle == 'event: ended\ndata: {"type":"ended","stage":null,"fraction":null}\n\n'
        waiting = pool.submit(client.get, url)
        deadline = time.monotonic() + 30
        while "full-16d" not in lab.progress:
            assert time.monotonic() < deadline, "the evaluation never reported"
            time.sleep(0.01)
        assert lab.progress["full-16d"] == lab_state.EvaluationProgress("IWAE bound", 0.25)
        if stopped_by == "cancel":
            assert client.delete(url).status_code == 204
        else:
            lab.close()  # what the app's shutdown does
        answer = waiting.result(timeout=30)
        why = "it was cancelled" if stopped_by == "cancel" else "the server is stopping"
        assert answer.status_code == 409
        assert answer.json()["detail"] == f"the evaluation of full-16d stopped: {why}"
        refused = client.delete(url)
        assert refused.status_code == 409
        assert refused.json()["detail"] == "no evaluation of full-16d is running"
    assert lab._closing  # the lifespan's end stops whatever still runs


def test_the_progress_stream_sends_each_stage_then_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twice a second while the evaluation runs, then one `ended`, fraction 1 once the model has one."""
    lab = lab_state.LabState(registry=None, classifiers={}, settings=TEST_EVALUATION)  # type: ignore[arg-type]
    lab.progress["m"] = lab_state.EvaluationProgress("ELBO", 0.1)
    polls = []

    def running(model_id: str) -> bool:
        polls.append(model_id)
        if len(polls) == 2:
            lab.progress["m"] = lab_state.EvaluationProgress("FID", 0.9)
        if len(polls) == 3:
            lab.evaluations["m"] = None  # type: ignore[assignment]  # done: what it is does not matter here
        return len(polls) <= 2

    monkeypatch.setattr(lab, "running", running)
    monkeypatch.setattr(lab_state, "PROGRESS_SECONDS", 0.0)

    async def events() -> list[str]:
        return [event.decode() async for event in lab.progress_events("m")]

    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs in this thread (Playwright's)
        sent = pool.submit(asyncio.run, events()).result()
    assert sent == [
        'event: progress\ndata: {"type":"progress","stage":"ELBO","fraction":0.1}\n\n',
        'event: progress\ndata: {"type":"progress","stage":"FID","fraction":0.9}\n\n',
        'event: ended\ndata: {"type":"ended","stage":null,"fraction":1.0}\n\n',
    ]
