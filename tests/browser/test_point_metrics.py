"""Per-point metrics on the explorer in a real browser: colour by a metric (computed from the page), its
histograms, and a brushed range that leaves on the map exactly the points whose values it holds."""

from playwright.sync_api import Page, expect

from model.point_metrics import POINT_METRICS

SHOWN_ON_MAP = """() => document.getElementById('map').data.slice(0, 10)
  .reduce((n, t) => n + t.x.filter((x) => x !== null).length, 0)"""
IN_BAND = """async () => {
  const band = document.getElementById('histogram-log_px').layout.shapes[0];
  const body = await (await fetch('/api/models/full-16d/point-metrics?split=test')).json();
  return body.values.log_px.filter((v) => v >= band.x0 && v <= band.x1).length;
}"""


def test_colouring_by_a_metric_and_brushing_its_histogram_filters_the_map(page: Page, live_url: str) -> None:
    page.goto(live_url + "/?model=full-16d")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    page.select_option("#colour-by", "kl")
    expect(page.locator("#metric-panel")).to_be_visible(timeout=120_000)
    expect(page.locator("#metric-panel .histogram .plot-container")).to_have_count(len(POINT_METRICS))
    colours = page.evaluate("() => document.getElementById('map').data[0].marker.color")
    assert isinstance(colours, list) and len(colours) > 100  # a value per point, not the class's colour
    page.locator("#histogram-log_px").scroll_into_view_if_needed()
    box = page.locator("#histogram-log_px .nsewdrag").bounding_box()
    assert box is not None
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, middle, steps=8)
    page.mouse.up()
    expect(page.locator("#metrics-count")).to_contain_text("of 10,000 points in the brushed ranges")
    shown, expected = page.evaluate(SHOWN_ON_MAP), page.evaluate(IN_BAND)
    assert 0 < shown == expected < 10_000
    assert page.locator("#metrics-count").text_content().startswith(f"{shown:,} of")  # type: ignore[union-attr]
    page.click("#clear-ranges")
    page.wait_for_function(f"() => ({SHOWN_ON_MAP})() === 10000")
    page.select_option("#colour-by", "class")
    assert page.evaluate("() => document.getElementById('map').data[0].marker.color") == "#1f77b4"
