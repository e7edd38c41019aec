"""The explorer's "Export view": the file it downloads opens in a browser with no server (every request
refused), draws the view's points and decodes under the cursor from its own grid."""

from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.test_explorer import TO_PAGE


def test_the_exported_view_opens_with_no_server_and_shows_the_map(
    page: Page, live_url: str, tmp_path: Path
) -> None:
    page.goto(live_url + "/?model=full-2d")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    with page.expect_download(timeout=60_000) as download:
        page.click("#export-view")
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.name == "full-2d-test-pca-map.html"
    refused: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.url)
        route.abort()

    page.route("http://**/*", refuse)
    page.route("https://**/*", refuse)
    page.goto(exported.as_uri())
    page.wait_for_function("() => document.getElementById('map').data?.length >= 10")
    count = page.evaluate(
        "() => document.getElementById('map').data.slice(0, 10).reduce((n, t) => n + t.x.length, 0)"
    )
    assert count == 10_000
    tile = page.locator("#tile")
    for point in ([-1.0, 1.0], [1.0, -1.0]):
        page.mouse.move(*page.evaluate(TO_PAGE, point))
        expect(page.locator("#coords")).to_contain_text("x ")
    cells = {tile.get_attribute("data-cell")}
    page.mouse.move(*page.evaluate(TO_PAGE, [-1.0, 1.0]))
    cells.add(tile.get_attribute("data-cell"))
    assert len(cells - {None}) == 2  # two places, two decoded images
    assert refused == []  # it asked nothing of any server
