"""A user's own model in a real browser: the explorer on it, framed as a notebook frames it, and the lab."""

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import latent_atlas
from app.notebook import Atlas
from model.factories import build
from tests.browser.test_explorer import SHOWS_COORDINATES, TO_PAGE, open_explorer

CLASS_MEANS = """() => document.getElementById('map').data.slice(0, 2).map((trace) =>
  [trace.x, trace.y].map((values) => values.reduce((a, b) => a + b, 0) / values.length))"""


@pytest.fixture(scope="module")
def conv_atlas(example_models: dict[str, str], notebook_home: Path) -> Iterator[Atlas]:
    """examples/conv_vae.py's model opened as a notebook opens it."""
    atlas = latent_atlas.explore(
        build(example_models["conv-vae"].partition("=")[2]), home=notebook_home, show=False
    )
    yield atlas
    atlas.stop()


def test_the_explorer_maps_and_decodes_an_outside_model(page: Page, conv_atlas: Atlas) -> None:
    open_explorer(page, conv_atlas.url)
    counts = page.evaluate("() => document.getElementById('map').data.slice(0, 10).map((t) => t.x.length)")
    assert sum(counts) == 10_000
    assert "(your model)" in page.locator("#model option:checked").inner_text()
    image = page.locator("#hover-image")
    for point in page.evaluate(CLASS_MEANS):  # where this model put the 0s and the 1s
        before = image.get_attribute("src")
        page.mouse.move(*page.evaluate(TO_PAGE, point))
        expect(image).not_to_have_attribute("src", before or "", timeout=5_000)
        page.wait_for_function(SHOWS_COORDINATES, arg=point)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not the test's output."""


def test_a_notebook_page_frames_the_explorer(page: Page, conv_atlas: Atlas, tmp_path: Path) -> None:
    """A page of another local origin (as Jupyter's is) shows the explorer in an IFrame: the pages'
    frame-ancestors policy lets it, where a normal server's forbids framing."""
    page_html = f'<!doctype html><link rel="icon" href="data:,"><body>{conv_atlas._repr_html_()}</body>'
    (tmp_path / "notebook.html").write_text(page_html)
    handler = partial(QuietHandler, directory=str(tmp_path))
    notebook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=notebook.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{notebook.server_address[1]}/notebook.html")
        framed = page.frame_locator("iframe")
        expect(framed.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    finally:
        notebook.shutdown()
        notebook.server_close()


def test_the_lab_says_an_outside_model_has_no_training_record(page: Page, conv_atlas: Atlas) -> None:
    page.goto(conv_atlas.url + "/lab")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator(".no-record").first).to_be_visible()
    assert page.locator("#curves").is_hidden() and page.locator("#evolution").is_hidden()


# The mean spread between an image's colour channels, drawn through a canvas: 0 for a grey image.
CHANNEL_SPREAD = """async () => {
  const image = document.getElementById('hover-image');
  await image.decode();
  const canvas = document.createElement('canvas');
  [canvas.width, canvas.height] = [image.naturalWidth, image.naturalHeight];
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  let spread = 0;
  for (let i = 0; i < data.length; i += 4) {
    spread += Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]);
  }
  return [canvas.width, spread / (data.length / 4)];
}"""


@pytest.fixture(scope="module")
def shapes_atlas(real_world_examples: dict[str, str], notebook_home: Path) -> Iterator[Atlas]:
    """examples/batchnorm_vae.py's model (MSE on 64x64 colour shapes in [-1, 1]) opened from a notebook."""
    model = build(real_world_examples["shapes-vae"].partition("=")[2])
    atlas = latent_atlas.explore(model, home=notebook_home, show=False)
    yield atlas
    atlas.stop()


def test_a_colour_model_is_mapped_and_decoded_in_colour(page: Page, shapes_atlas: Atlas) -> None:
    open_explorer(page, shapes_atlas.url)
    names = page.evaluate("() => document.getElementById('map').data.slice(0, 3).map((t) => t.name)")
    assert names == ["circle", "square", "triangle"]
    image = page.locator("#hover-image")
    point = page.evaluate(CLASS_MEANS)[0]
    before = image.get_attribute("src")
    page.mouse.move(*page.evaluate(TO_PAGE, point))
    expect(image).not_to_have_attribute("src", before or "", timeout=5_000)
    page.wait_for_function(SHOWS_COORDINATES, arg=point)
    side, spread = page.evaluate(CHANNEL_SPREAD)
    assert side == 64 and spread > 5
