"""The explorer's nonlinear planes in a real browser: offered above two dimensions only, computed from the
page, drawn with their own axes, hovered (an estimate, said so) and an upload placed by the transform."""

from pathlib import Path

from playwright.sync_api import Page, expect

from model.data import ImageSet
from tests.app.images import digit_image, encode
from tests.browser.test_explorer import TO_PAGE

READY = """() => new URL(location).searchParams.get('plane') === 'tsne'
  && !document.getElementById('plane-status').textContent"""


def test_a_tsne_plane_is_chosen_drawn_hovered_and_an_upload_placed_on_it(
    page: Page, live_url: str, test_set: ImageSet, tmp_path: Path
) -> None:
    page.goto(live_url + "/?model=full-2d")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#plane-control")).to_be_hidden()  # a 2-D map is the latent plane itself
    page.goto(live_url + "/?model=full-16d")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    page.select_option("#plane", "tsne")
    page.wait_for_function(READY, timeout=300_000)
    graph = "document.getElementById('map')"
    assert page.evaluate(f"() => {graph}.layout.xaxis.title.text") == "t-SNE 1"
    assert page.evaluate(f"() => {graph}.data.slice(0, 10).reduce((n, t) => n + t.x.length, 0)") == 10_000
    x, y = page.evaluate(f"() => [{graph}.data[3].x[0], {graph}.data[3].y[0]]")
    page.mouse.move(*page.evaluate(TO_PAGE, [x, y]))
    expect(page.locator("#hover-coords")).to_contain_text("(estimate)")
    expect(page.locator("#hover-how")).to_contain_text("the latents of the 8 encodings nearest the point")
    upload = tmp_path / "digit.png"
    upload.write_bytes(encode(digit_image(test_set.images, 18)))
    page.set_input_files("#upload", str(upload))
    header = page.locator("#encoding p.muted").first
    expect(header).to_contain_text("placed by t-SNE's transform", timeout=60_000)
    marker = page.evaluate(f"() => {graph}.data.find((t) => t.uid === 'drawings')")
    assert marker is not None and len(marker["x"]) == 1
    xs = page.evaluate(f"() => {graph}.data.slice(0, 10).flatMap((t) => t.x)")
    assert min(xs) <= marker["x"][0] <= max(xs)
    assert page.evaluate(f"() => {graph}.layout.shapes.length") == 0  # no ellipse on a nonlinear plane
