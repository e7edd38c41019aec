from playwright.sync_api import Page, expect

MODELS = ("recon-2d", "kl-2d", "full-2d")
POINTS = "(id) => document.getElementById('map-' + id).data.slice(0, 10).reduce((n, t) => n + t.x.length, 0)"


def test_compare_shows_three_linked_maps_and_the_figures(page: Page, live_url: str) -> None:
    page.goto(live_url + "/compare")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    for model in MODELS:
        count = page.evaluate(POINTS, model)
        assert count == 10_000, model
    # Hovering a digit in the full-ELBO map highlights the same test digit in all three.
    graph = page.locator("#map-full-2d .nsewdrag")
    box = graph.bounding_box()
    assert box is not None
    for fraction in (0.5, 0.45, 0.55, 0.4, 0.6):
        page.mouse.move(box["x"] + fraction * box["width"], box["y"] + fraction * box["height"])
        page.wait_for_timeout(150)
        highlighted = page.evaluate(
            "(ids) => ids.map((id) => document.getElementById('map-' + id).data"
            ".find((t) => t.uid === 'highlight').x.length)",
            list(MODELS),
        )
        if highlighted == [1, 1, 1]:
            break
    assert highlighted == [1, 1, 1]
    # Same scale means the same axis ranges, before and after the highlight is drawn.
    ranges = page.evaluate(
        "(ids) => ids.map((id) => document.getElementById('map-' + id)._fullLayout.xaxis.range.join())",
        list(MODELS),
    )
    assert len(set(ranges)) == 1, ranges
    expect(page.locator("#reconstructions img")).to_have_count(8 * 4)
    expect(page.locator("#interpolations img")).to_have_count(10 * 3)
