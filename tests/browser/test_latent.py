"""The latent page in the browser: a dimension's ends are the API's (the encodings' extremes), its
traversal and its clamping on a test image and on an upload, the URL keeping the view, and the explorer's
traversal linking to it with the pinned image."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from model.data import ImageSet
from tests.app.images import digit_image, encode


def open_latent(page: Page, url: str, query: str) -> None:
    page.goto(f"{url}/latent?{query}")
    expect(page.locator("#clamp-strip")).to_have_attribute("data-dim", "3", timeout=30_000)


def test_a_dimension_s_page_shows_its_ends_and_clamps_it_on_an_image(
    page: Page, live_url: str, test_set: ImageSet, tmp_path: Path
) -> None:
    open_latent(page, live_url, "model=full-16d&dim=3&index=7")
    profile = page.evaluate("() => fetch('/api/models/full-16d/dimensions/3').then((r) => r.json())")
    highest = page.locator("#highest img")
    expect(highest).to_have_count(8)
    assert highest.first.get_attribute("src").endswith(f"/test/{profile['highest'][0]['index']}.png")
    assert (
        page.locator("#lowest img")
        .last.get_attribute("src")
        .endswith(f"/test/{profile['lowest'][-1]['index']}.png")
    )
    expect(page.locator("#dim")).to_have_value("3")
    expect(page.locator("#dim-summary")).to_contain_text(f"the {profile['rank']}")
    expect(page.locator("#prior-strip img")).to_have_count(9)
    expect(page.locator("#clamp-strip img")).to_have_count(10)  # the image, then the nine steps
    expect(page.locator("#clamp-strip figure.own")).to_contain_text("(its own)")
    assert page.locator("#clamp-strip img").first.get_attribute("src").endswith("/test/7.png")
    page.fill("#clamp-index", "12")
    page.dispatch_event("#clamp-index", "change")
    expect(page.locator("#clamp-status")).to_have_text("around test image 12")
    expect(page).to_have_url(f"{live_url}/latent?model=full-16d&dim=3&index=12")
    upload = tmp_path / "digit.png"
    upload.write_bytes(encode(digit_image(test_set.images, 18)))
    page.set_input_files("#clamp-upload", str(upload))
    expect(page.locator("#clamp-status")).to_have_text("around your image (digit.png)")
    expect(page.locator("#clamp-strip img").first).to_have_attribute("src", re.compile("^data:image/png"))


def test_the_explorer_s_traversal_links_each_dimension_to_its_page(page: Page, live_url: str) -> None:
    page.goto(live_url + "/?model=full-16d")
    expect(page.locator("#traversal")).to_have_attribute("data-rows", "16", timeout=30_000)
    link = page.locator("#traversal tr[data-dim] th a").first
    dim = page.locator("#traversal tr[data-dim]").first.get_attribute("data-dim")
    assert link.get_attribute("href") == f"/latent?model=full-16d&dim={dim}"
    link.click()
    expect(page.locator("#clamp-strip")).to_have_attribute("data-dim", dim, timeout=30_000)
    expect(page.locator("#dim-summary")).to_contain_text("the 1st of 16 dimensions")
