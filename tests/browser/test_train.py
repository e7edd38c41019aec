"""Training from the page: queue a job on the Train page, watch its latent map animate epoch by epoch to
the end, and the explorer, waiting on an empty home, opens on the model when it is served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from model.data import Dataset
from model.home import data_root
from tests.conftest import _serve

EPOCHS = 3
# Records each epoch the live map is drawn with: one draw per epoch, in order, shows it animated.
WATCH_EPOCHS = """
window.drawnEpochs = [];
const map = document.getElementById("live-map");
new MutationObserver(() => drawnEpochs.push(Number(map.dataset.epochs)))
  .observe(map, { attributes: true, attributeFilter: ["data-epochs"] });
"""


@pytest.fixture
def empty_home_url(tmp_path: Path, mnist_root: Path, mnist: Dataset) -> Iterator[str]:
    """A server with training on over a home that holds MNIST, prepared, and no model."""
    data_root(tmp_path).mkdir()
    (data_root(tmp_path) / "mnist").symlink_to(mnist_root / "mnist")
    yield from _serve(tmp_path, training=True)


def test_a_job_queued_on_the_train_page_animates_its_map_and_opens_in_the_explorer(
    page: Page, empty_home_url: str
) -> None:
    explorer = page.context.new_page()
    explorer_errors: list[str] = []
    explorer.on("pageerror", lambda error: explorer_errors.append(str(error)))
    explorer.on("console", lambda m: m.type == "error" and explorer_errors.append(m.text))
    explorer.goto(empty_home_url)
    expect(explorer.locator("#map-waiting")).to_contain_text("No model is served yet")

    page.goto(f"{empty_home_url}/train")
    page.select_option("#train-likelihood", "gaussian")  # a fixed sigma asks for its value
    expect(page.locator("#scale-field")).to_be_visible()
    page.select_option("#train-likelihood", "")  # suited to the data: MNIST's Bernoulli
    expect(page.locator("#scale-field")).to_be_hidden()
    page.fill("#train-hidden", "32")
    page.fill("#train-epochs", str(EPOCHS))
    expect(page.locator("#train-id")).to_have_value("full-2d")  # suggested from the choices
    page.fill("#train-id", "browser-quick")
    page.evaluate(WATCH_EPOCHS)
    page.click("#train-go")
    expect(page.locator("#jobs tr[data-job='1'] td").nth(1)).to_have_text("browser-quick")

    # The map grows a frame per epoch as the events arrive, up to the last. The job process runs below the
    # server's priority, so the other test workers' load slows it (20 s alone, 60 s or more beside them).
    expect(page.locator("#live-map")).to_have_attribute("data-epochs", str(EPOCHS), timeout=180_000)
    assert page.evaluate("window.drawnEpochs") == list(range(1, EPOCHS + 1))
    steps = page.eval_on_selector("#live-map", "el => el.layout.sliders[0].steps.map((step) => step.label)")
    assert steps == [str(epoch) for epoch in range(1, EPOCHS + 1)]  # a frame per epoch on the slider
    expect(page.locator("#live-terms")).to_contain_text(f"Epoch {EPOCHS} of {EPOCHS}: test \u2212ELBO")
    expect(page.locator("#jobs tr[data-job='1']")).to_have_attribute("data-state", "done", timeout=60_000)

    # The explorer that waited opens on the model, now in its picker, without a reload.
    expect(explorer.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert explorer.eval_on_selector("#model", "el => el.value") == "browser-quick"
    group = explorer.eval_on_selector("#model option:checked", "el => el.parentElement.label")
    assert group == "MNIST handwritten digits"  # under its data set, as the server names the group
    assert explorer.eval_on_selector("#map", "el => el.dataset.points") == "10000"
    expect(explorer.locator("#map-waiting")).to_have_count(0)
    # The picker a model joined without a reload reads as the server's own page does.
    options = "els => els.map((option) => [option.value, option.textContent, option.parentElement.label])"
    joined = explorer.eval_on_selector_all("#model option", options)
    explorer.reload()
    expect(explorer.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert explorer.eval_on_selector_all("#model option", options) == joined
    assert joined == [["browser-quick", "Full ELBO, 2-D latent", "MNIST handwritten digits"]]
    explorer.close()
    assert explorer_errors == []
