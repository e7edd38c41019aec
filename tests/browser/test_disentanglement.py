"""The lab's disentanglement panel in the browser: shown for a model of known factors only, a sweep scored
from the page with the progress followed, the table holding the API's scores, the sweep drawn by
objective, and a cell of the factor x latent matrix opening that latent's page."""

import re

from playwright.sync_api import Page, expect

from tests.conftest import SPRITES_SWEEP


def test_a_sweep_is_scored_from_the_lab_and_a_matrix_cell_opens_its_latent(
    page: Page, sprites_url: str
) -> None:
    page.goto(f"{sprites_url}/lab?model=vae-s0")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#disentanglement-panel")).to_be_visible()
    expect(page.locator("#score-status")).to_have_text(
        "not scored yet: about a minute on two cores, then cached"
    )
    page.click("#score-sweep")
    expect(page.locator("#sweep-status")).to_have_text(
        f"{len(SPRITES_SWEEP)} of {len(SPRITES_SWEEP)} models scored", timeout=120_000
    )
    expect(page.locator("#scores tr")).to_have_count(8, timeout=30_000)  # a header and seven scores
    scores = page.evaluate("() => fetch('/api/models/vae-s0/disentanglement').then((r) => r.json())")
    expect(page.locator('#scores td[data-key="mig"]')).to_have_text(f"{scores['figures']['mig']:.3f}")
    expect(page.locator("#scores tr").nth(1)).to_contain_text("(2 seeds)")
    traces = page.evaluate(
        "() => document.getElementById('metric-beta').data.map((t) => [t.name, t.customdata])"
    )
    assert ["VAE", ["vae-s0", "vae-s1"]] in traces and ["β-TCVAE", ["tcvae-s0"]] in traces
    # A cell of the matrix: the latent it sits under opens its page.
    page.locator("#information-matrix .nsewdrag").click(position={"x": 5, "y": 5})
    expect(page).to_have_url(re.compile(r"/latent\?model=vae-s0&dim=0(&|$)"), timeout=10_000)


def test_the_panel_stays_hidden_for_a_data_set_whose_factors_are_not_known(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/lab?model=full-2d")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#disentanglement-panel")).to_be_hidden()


def test_the_explorer_colours_and_filters_the_map_by_any_known_factor(page: Page, sprites_url: str) -> None:
    page.goto(f"{sprites_url}/?model=vae-s1")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    options = page.eval_on_selector_all("#colour-by option", "els => els.map((e) => e.value)")
    assert options[:6] == ["class", *[f"factor:{n}" for n in ("shape", "scale", "orientation", "x", "y")]]
    page.select_option("#colour-by", "factor:x")
    expect(page.locator("#histogram-factor\\:x .main-svg").first).to_be_attached(timeout=10_000)
    coloured = page.evaluate(
        """() => {
          const graph = document.getElementById("map");
          const trace = graph.data.find((t) => Array.isArray(t.marker.color));
          return { colours: trace.marker.color, points: trace.customdata };
        }"""
    )
    latent_map = page.evaluate("() => fetch('/api/models/vae-s1/map').then((r) => r.json())")
    assert coloured["colours"] == [latent_map["factors"]["x"][p] for p in coloured["points"]]
