"""The page's view reported to its server and the highlights a notebook sets, through the API."""

from fastapi.testclient import TestClient

BASE = "/api/models/full-2d"


def test_a_reported_view_is_read_back_and_checked_against_the_map(client: TestClient) -> None:
    assert client.get("/api/models/kl-2d/view").json()["detail"] == (
        "no page has reported its view of kl-2d yet"
    )
    report = {"split": "test", "plane": "pca", "pins": [3], "selection": [1, 2], "hovered": [0.5, -1.0]}
    assert client.put(f"{BASE}/view", json=report).status_code == 204
    assert client.get(f"{BASE}/view").json() == report
    wrong = client.put(f"{BASE}/view", json={**report, "selection": [1, 10_000]})
    assert wrong.status_code == 422 and wrong.json()["detail"] == (
        "selection: 10000 is not a point of the map (0..9999)"
    )


def test_each_highlight_raises_the_version_the_page_watches(client: TestClient) -> None:
    before = client.get(f"{BASE}/highlight").json()["version"]
    set_ = client.put(f"{BASE}/highlight", json={"split": "train", "indices": [0, 59_999]}).json()
    assert set_ == {"split": "train", "indices": [0, 59_999], "version": set_["version"]}
    assert set_["version"] > before and client.get(f"{BASE}/highlight").json() == set_
    wrong = client.put(f"{BASE}/highlight", json={"split": "test", "indices": [10_000]})
    assert wrong.status_code == 422 and wrong.json()["detail"] == (
        "indices: 10000 is not an image of the test split (0..9999)"
    )
