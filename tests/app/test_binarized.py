"""Models trained on binarized images beside models on intensities: each says what it was trained on, the
pickers keep them apart, and the beta sweep never sets their nats beside the others'."""

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import TEST_HOSTS
from tests.conftest import TEST_EVALUATION


@pytest.fixture(scope="module")
def binarized_client(binarized_home: Path) -> Iterator[TestClient]:
    settings = Settings(
        home=binarized_home, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class PickerGroups(HTMLParser):
    """The model picker's groups (#model): label -> the option values under it; and each option's text."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, list[str]] = {}
        self.texts: dict[str, str] = {}
        self._in_picker = False
        self._label = ""
        self._option = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "select":
            self._in_picker = found.get("id") == "model"
        elif tag == "optgroup" and self._in_picker:
            self._label = found["label"] or ""
            self.groups[self._label] = []
        elif tag == "option" and self._in_picker:
            self._option = found["value"] or ""
            self.groups[self._label].append(self._option)
            self.texts[self._option] = ""

    def handle_data(self, data: str) -> None:
        if self._option:
            self.texts[self._option] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._in_picker = False
        elif tag == "option":
            self._option = ""


def test_models_say_what_they_were_trained_on(binarized_client: TestClient) -> None:
    models = {m["id"]: m for m in binarized_client.get("/api/models").json()}
    told = ("objective", "iwae_k", "binarized", "group")
    assert {key: models["full-2d"][key] for key in told} == {
        "objective": "Full ELBO",
        "iwae_k": 1,
        "binarized": False,
        "group": "MNIST handwritten digits",
    }
    assert {key: models["beta-2-2d"][key] for key in told} == {
        "objective": "IWAE, k = 3",
        "iwae_k": 3,
        "binarized": True,
        "group": "MNIST handwritten digits, binarized",
    }


@pytest.mark.parametrize("page", ["/", "/lab"])
def test_pickers_keep_binarized_models_in_a_group_of_their_own(
    binarized_client: TestClient, page: str
) -> None:
    picker = PickerGroups()
    picker.feed(binarized_client.get(page).text)
    mnist = "MNIST handwritten digits"
    assert picker.groups == {mnist: ["full-2d"], f"{mnist}, binarized": ["beta-2-2d"]}


def test_the_pickers_name_each_model_by_the_servers_label(binarized_client: TestClient) -> None:
    """The page's options and /api/models (what a picker adds without a reload) say the same; with two
    groups served, each label starts with its group (a closed picker shows no group)."""
    picker = PickerGroups()
    picker.feed(binarized_client.get("/").text)
    labels = {m["id"]: m["label"] for m in binarized_client.get("/api/models").json()}
    assert picker.texts == labels
    assert labels["beta-2-2d"] == "MNIST handwritten digits, binarized: beta-2-2d"  # titled by its id


def test_the_sweep_leaves_a_binarized_model_off_its_curve(binarized_client: TestClient) -> None:
    points = {p["model_id"]: p for p in binarized_client.get("/api/sweep").json()["points"]}
    assert points["full-2d"]["left_out"] is None and points["full-2d"]["rate"] > 0
    binarized = points["beta-2-2d"]
    assert binarized["trained"] and binarized["left_out"] == "trained on binarized images"
    assert binarized["rate"] is None and binarized["distortion"] is None
