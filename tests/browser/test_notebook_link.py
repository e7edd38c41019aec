"""The explorer as explore() serves it, both ways: what the page selects, pins and hovers is read from
Python (indices and latents), and what Python highlights is ringed on the page."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch
from playwright.sync_api import Page, expect

import latent_atlas
from model.data import Dataset
from model.factories import build
from tests.browser.test_explorer import TO_PAGE, select_box

T = TypeVar("T")
CENTRAL = """() => {
  const graph = document.getElementById('map');
  const xs = graph.data.slice(0, 10).flatMap((t) => t.x).sort((a, b) => a - b);
  const ys = graph.data.slice(0, 10).flatMap((t) => t.y).sort((a, b) => a - b);
  const at = (v, q) => v[Math.floor(q * v.length)];
  return [[at(xs, 0.4), at(ys, 0.4)], [at(xs, 0.6), at(ys, 0.6)]];
}"""
MARKS = "() => document.getElementById('map').data.find((t) => t.uid === 'notebook-marks')"


def eventually(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 15) -> T:
    deadline = time.monotonic() + timeout
    while not done(value := read()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_python_reads_the_pages_selection_and_hover_and_rings_what_it_highlights(
    page: Page, example_models: dict[str, str], notebook_home: Path, mnist: Dataset
) -> None:
    wrapped = build(example_models["pytorch-vae"].partition("=")[2])
    atlas = latent_atlas.explore(wrapped, data="mnist", home=notebook_home, show=False)
    try:
        page.goto(f"{atlas.url}/")
        expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=60_000)
        count, _ = select_box(page, page.evaluate(CENTRAL))
        selection = eventually(lambda: atlas.selection, lambda s: len(s.indices) == count)
        assert len(selection.indices) == count > 10 and set(selection.splits) == {"test"}
        images = mnist.test.images[selection.indices].float() / 255
        mu, _ = atlas._served.loaded.encode(images)
        assert torch.allclose(selection.latents, mu, atol=1e-5)  # each index with its own latent
        page.check("input[name=mode][value=zoom]")
        x, y = page.evaluate(CENTRAL)[0]
        page.mouse.move(*page.evaluate(TO_PAGE, [x, y]))
        hovered = eventually(lambda: atlas.hovered, lambda z: z is not None)
        assert hovered is not None and hovered.shape == (atlas._served.loaded.latent_dim,)
        atlas.highlight([0, 5, 9])
        marks = eventually(lambda: page.evaluate(MARKS), lambda t: t is not None and len(t["x"]) == 3)
        on_map = page.evaluate(
            "() => [0, 5, 9].map((i) => document.getElementById('map').data"
            ".slice(0, 10).flatMap((t) => t.customdata.map((p, k) => [p, t.x[k]]))"
            ".find(([p]) => p === i)[1])"
        )
        assert marks["x"] == on_map
    finally:
        page.goto("about:blank")  # the page polls its server: leave it before the server stops
        atlas.stop()
