"""The explorer page in a real browser: map, hover, pin, drag-to-interpolate, draw, upload, errors."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from model.data import ImageSet
from tests.app.images import digit_image, encode
from tests.browser.conftest import ARTIFACTS, PageWatch

# Pixel position (relative to the page) of map point (x, y), from Plotly's own axes.
TO_PAGE = """([x, y]) => {
  const graph = document.getElementById('map');
  const box = graph.querySelector('.nsewdrag').getBoundingClientRect();
  const layout = graph._fullLayout;
  return [box.left + layout.xaxis.c2p(x), box.top + layout.yaxis.c2p(y)];
}"""

# The visible test digit farthest from its nearest neighbour: one a click cannot mistake for another.
ISOLATED = """() => {
  const graph = document.getElementById('map');
  const [x0, x1] = graph._fullLayout.xaxis.range, [y0, y1] = graph._fullLayout.yaxis.range;
  const pts = [];
  graph.data.slice(0, 10).forEach((t) => t.x.forEach((x, i) => {
    const y = t.y[i];
    const inside = (v, lo, hi) => v > lo + 0.1 * (hi - lo) && v < hi - 0.1 * (hi - lo);
    if (inside(x, x0, x1) && inside(y, y0, y1)) pts.push([x, y, t.customdata[i]]);
  }));
  let best = null, bestGap = -1;
  for (const p of pts) {
    let gap = Infinity;
    for (const q of pts) if (q !== p) gap = Math.min(gap, (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2);
    if (gap > bestGap) { bestGap = gap; best = p; }
  }
  return best;
}"""


SHOWS_COORDINATES = """([x, y]) => {
  const m = document.getElementById('hover-coords').textContent.match(/x (\\S+), y (\\S+)/);
  return m && Math.abs(m[1] - x) < 0.05 && Math.abs(m[2] - y) < 0.05;
}"""


def open_explorer(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)


PATH = "document.getElementById('map').layout.shapes.find((s) => s.type === 'path').path"
HOVERS = "(index) => (document.getElementById('map')._hoverdata || []).some((p) => p.customdata === index)"


def click_isolated_digit(page: Page) -> int:
    """Click the visible digit farthest from any other, once Plotly's hover is on it; -> its index."""
    x, y, index = page.evaluate(ISOLATED)
    page.mouse.move(*page.evaluate(TO_PAGE, [x, y]))
    page.wait_for_function(HOVERS, arg=index)
    page.mouse.click(*page.evaluate(TO_PAGE, [x, y]))
    return int(index)


def test_map_holds_the_10000_test_digits(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    counts = page.evaluate("() => document.getElementById('map').data.slice(0, 10).map((t) => t.x.length)")
    assert len(counts) == 10 and sum(counts) == 10_000
    assert page.locator(".legend .traces").count() >= 10  # one legend entry per digit


def test_hover_changes_the_decoded_image(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    image = page.locator("#hover-image")
    for point in ([-1.5, 1.0], [1.5, -1.0]):
        before = image.get_attribute("src")
        page.mouse.move(*page.evaluate(TO_PAGE, point))
        expect(image).not_to_have_attribute("src", before or "", timeout=5_000)
        page.wait_for_function(SHOWS_COORDINATES, arg=point)


def test_clicking_an_isolated_point_pins_its_decode_and_true_posterior(page: Page, live_url: str) -> None:
    """The pin holds the decode and the test digit, and (2-D model) that digit's exact log p(x)."""
    open_explorer(page, live_url)
    index = click_isolated_digit(page)
    pins = page.locator("#pins .pin")
    expect(pins).to_have_count(1)
    expect(pins.locator(f"img[alt='test image {index}']")).to_have_count(1)
    expect(pins.locator(".posterior-note")).to_contain_text("log p(x) = ", timeout=30_000)
    expected = page.evaluate(
        """(index) => fetch(`/api/models/${document.getElementById('map').dataset.model}/posterior`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ index }),
        }).then((response) => response.json())""",
        index,
    )
    assert f"log p(x) = {expected['log_px']:.2f} nats" in pins.inner_text()


def test_dragging_between_digits_draws_a_line_and_a_strip(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    page.check("input[name=mode][value=interpolate]")
    page.locator("#steps").fill("7")
    start, end = page.evaluate(TO_PAGE, [-1.5, 0.5]), page.evaluate(TO_PAGE, [1.5, -0.5])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()
    expect(page.locator("#strip img")).to_have_count(7)
    paths = page.evaluate(
        "() => document.getElementById('map').layout.shapes"
        ".filter((s) => s.type === 'path').map((s) => s.path)"
    )
    assert len(paths) == 1 and paths[0].startswith("M") and paths[0].count("L") == 1  # start to end


def test_resting_on_a_digit_mid_drag_makes_it_a_waypoint(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    page.check("input[name=mode][value=interpolate]")
    page.locator("#steps").fill("5")
    x, y, index = page.evaluate(ISOLATED)
    start, end = page.evaluate(TO_PAGE, [-2.0, -1.0]), page.evaluate(TO_PAGE, [2.0, -1.5])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*page.evaluate(TO_PAGE, [x, y]), steps=6)
    page.wait_for_function(HOVERS, arg=index)
    # Resting: the dwell's timer makes the digit a waypoint, and the line bends there (waited for, not
    # timed, so a busy machine cannot move on before the timer fires)
    page.wait_for_function(f"() => ({PATH}).split('L').length === 3")
    page.mouse.move(*end, steps=6)
    page.mouse.up()
    expect(page.locator("#strip")).to_have_attribute("data-ends", "3")
    expect(page.locator("#strip img")).to_have_count(2 * 4 + 1)
    assert page.evaluate(f"() => {PATH}").count("L") == 2  # start, the rested-on digit, end


def _check_encoded(page: Page, markers: int) -> None:
    expect(page.locator("#encoding img[alt='its reconstruction']")).to_have_count(1)
    expect(page.locator("#encoding .neighbors img")).to_have_count(8)
    drawn = page.evaluate(
        "() => document.getElementById('map').data.find((t) => t.uid === 'drawings').x.length"
    )
    ellipses = page.evaluate(
        "() => document.getElementById('map').layout.shapes.filter((s) => s.type === 'circle').length"
    )
    assert drawn == ellipses == markers


def test_a_stroke_on_the_pad_is_encoded_with_a_marker(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    box = page.locator("#pad").bounding_box()
    assert box is not None
    left, top, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(left + 0.5 * w, top + 0.2 * h)
    page.mouse.down()
    page.mouse.move(left + 0.5 * w, top + 0.8 * h, steps=12)  # a "1"
    page.mouse.up()
    _check_encoded(page, markers=1)


def test_an_uploaded_png_is_encoded_with_a_marker(
    page: Page, live_url: str, test_set: ImageSet, tmp_path: Path
) -> None:
    open_explorer(page, live_url)
    upload = tmp_path / "three.png"
    upload.write_bytes(encode(digit_image(test_set.images, 18)))
    page.set_input_files("#upload", str(upload))
    _check_encoded(page, markers=1)


def test_an_upload_shows_its_true_posterior_under_the_ellipse(
    page: Page, live_url: str, test_set: ImageSet, tmp_path: Path
) -> None:
    """On a 2-D model the encoding is followed by p(z|x) as contours on the map and log p(x) with the
    bounds, which sit below it."""
    open_explorer(page, live_url)
    upload = tmp_path / "three.png"
    upload.write_bytes(encode(digit_image(test_set.images, 18)))
    page.set_input_files("#upload", str(upload))
    expect(page.locator("#map")).to_have_attribute(
        "data-posterior", re.compile(r"^-\d+\.\d\d$"), timeout=30_000
    )
    contours = page.evaluate("() => document.getElementById('map').data.filter((t) => t.uid === 'posterior')")
    assert len(contours) == 1 and contours[0]["type"] == "contour"
    log_px = page.locator("#map").get_attribute("data-posterior") or "nan"
    text = page.locator("#encoding").inner_text()
    assert f"log p(x) = {log_px} nats" in text
    elbo = re.search(r"ELBO = (-[\d.]+) nats", text)
    assert elbo is not None and float(elbo.group(1)) < float(log_px)


def test_a_server_error_is_shown_in_the_page(
    page: Page, watch: PageWatch, live_url: str, tmp_path: Path
) -> None:
    open_explorer(page, live_url)
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    page.set_input_files("#upload", str(fake))
    expect(page.locator("#error")).to_contain_text("unsupported image type: send a PNG or JPEG")
    assert len(watch.errors) == 1 and "415" in watch.errors[0]  # the browser logs the failed request
    watch.errors.clear()


def test_the_page_fits_a_phone(browser, live_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    open_explorer(phone, live_url)
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "explorer-phone.png"), full_page=True)
    context.close()
    assert overflow <= 0


def test_the_manifold_tiles_under_the_points_and_follows_zoom(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    with page.expect_response(lambda r: "grid.png?n=24" in r.url and r.status == 200):
        page.check("#manifold")
    first = page.evaluate("() => document.getElementById('map').layout.images[0].source")
    with page.expect_response(lambda r: "grid.png?n=24" in r.url and r.status == 200):
        page.evaluate("() => Plotly.relayout('map', {'xaxis.range': [-1, 1], 'yaxis.range': [-1, 1]})")
    zoomed = page.evaluate("() => document.getElementById('map').layout.images[0].source")
    low, high = map(float, parse_qs(urlsplit(zoomed).query)["x_range"][0].split(","))
    assert zoomed != first and abs(low + high) < 1e-6 and 1 <= high < 2  # centred on the zoomed view


def test_the_decision_map_colours_the_view_and_follows_zoom(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    ranges = "() => ['xaxis', 'yaxis'].map((a) => document.getElementById('map')._fullLayout[a].range.join())"
    before = page.evaluate(ranges)
    page.check("#decision")
    expect(page.locator("#map")).to_have_attribute("data-decision", "48", timeout=10_000)
    trace = page.evaluate(
        "() => { const t = document.getElementById('map').data.find((t) => t.uid === 'decision');"
        " return [t.type, t.z.length]; }"
    )
    assert trace == ["heatmap", 48]
    assert page.evaluate(ranges) == before  # adding the layer must not rescale the map
    with page.expect_response(lambda r: "decision-map" in r.url and r.status == 200) as zoomed:
        page.evaluate("() => Plotly.relayout('map', {'xaxis.range': [-1, 1], 'yaxis.range': [-1, 1]})")
    low, high = map(float, parse_qs(urlsplit(zoomed.value.url).query)["x_range"][0].split(","))
    assert abs(low + high) < 1e-6 and 1 <= high < 2  # the zoomed view (widened to keep the aspect ratio)
    page.wait_for_function(
        "(low) => Math.abs(document.getElementById('map').data.find((t) => t.uid === 'decision').x[0] - low)"
        " < 1e-4",
        arg=low,
    )
    page.uncheck("#decision")
    page.wait_for_function("() => !document.getElementById('map').data.some((t) => t.uid === 'decision')")


def test_prior_holes_are_shaded_and_marked_and_aggregate_samples_drawn(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    expected = page.evaluate("() => fetch('/api/models/full-2d/prior-holes?n=4').then((r) => r.json())")
    page.check("#holes")
    expect(page.locator("#map")).to_have_attribute("data-holes", str(len(expected["holes"])), timeout=10_000)
    marks = page.evaluate(
        "() => document.getElementById('map').data.filter((t) => t.uid?.startsWith('prior-'))"
        ".map((t) => [t.uid, t.x.length])"
    )
    assert dict(marks) == {"prior-ratio": 64, "prior-disc": 97, "prior-holes": len(expected["holes"])}
    expect(page.locator("#holes-note")).to_contain_text("exact on this 2-D model")
    shown = re.search(r"puts ([0-9.]+)% of its mass", page.locator("#holes-note").inner_text())
    assert shown and float(shown.group(1)) == pytest.approx(100 * expected["hole_mass"], abs=0.05)
    expect(page.locator("#aggregate-samples img")).to_have_count(16)
    expect(page.locator("#samples img")).to_have_count(16)
    page.uncheck("#holes")
    page.wait_for_function(
        "() => !document.getElementById('map').data.some((t) => t.uid?.startsWith('prior-'))"
    )
    expect(page.locator("#holes-note")).to_be_hidden()


def test_a_wide_model_shows_its_traversals_around_a_pinned_digit(page: Page, live_url: str) -> None:
    """full-16d: one row per dimension in the API's KL order, dead ones marked; a 2-D model has none."""
    open_explorer(page, live_url)
    expect(page.locator("#traversal-panel")).to_be_hidden()
    page.goto(live_url + "/?model=full-16d")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#traversal")).to_have_attribute("data-rows", "16", timeout=15_000)
    expected = page.evaluate(
        """() => fetch('/api/models/full-16d/traversal', {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
        }).then((response) => response.json())"""
    )
    rows = page.locator("#traversal tr[data-dim]")
    assert [rows.nth(i).get_attribute("data-dim") for i in range(16)] == [
        str(r["dim"]) for r in expected["rows"]
    ]
    dead = [r["dim"] for r in expected["rows"] if not r["active"]]
    expect(page.locator("#traversal tr.dead")).to_have_count(len(dead))
    expect(rows.first.locator("img")).to_have_count(9)
    expect(page.locator("#traversal-status")).to_contain_text(
        f"around the prior mean; {expected['active_units']} of 16 dimensions active"
    )
    index = click_isolated_digit(page)
    expect(page.locator("#traversal-status")).to_contain_text(f"around test {index} (", timeout=15_000)
    expect(page.locator("#traversal-prior")).to_be_enabled()
    page.screenshot(path=str(ARTIFACTS / "explorer-traversal.png"), full_page=True)


IN_BOX = """([[x0, y0], [x1, y1]]) => {
  const inside = [];
  document.getElementById('map').data.slice(0, 10).forEach((t) => t.x.forEach((x, i) => {
    const y = t.y[i];
    if (x >= Math.min(x0, x1) && x <= Math.max(x0, x1) && y >= Math.min(y0, y1) && y <= Math.max(y0, y1)) {
      inside.push(t.customdata[i]);
    }
  }));
  return inside.sort((a, b) => a - b);
}"""


def select_box(page: Page, corners: list[list[float]]) -> tuple[int, list[int]]:
    """Drag a selection box between two map points -> (the selection panel's count, the points inside
    the box by the page's own data). Plotly's box is drawn in pixels: points within a pixel of its edges
    may fall either way."""
    expected = page.evaluate(IN_BOX, corners)
    page.check("input[name=mode][value=box]")
    start, end = (page.evaluate(TO_PAGE, corner) for corner in corners)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    panel = page.locator("#selection-panel")
    expect(panel).to_have_attribute("data-count", re.compile(r"^\d+$"), timeout=15_000)
    count = int(panel.get_attribute("data-count") or 0)
    assert abs(count - len(expected)) <= max(3, len(expected) // 50)
    return count, expected


def test_a_box_selection_is_counted_exported_and_kept(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    count, expected = select_box(page, [[-1.0, -0.5], [0.5, 1.0]])
    assert len(expected) > 20
    chips = page.locator("#selection-counts .chip")
    assert sum(int(chips.nth(i).inner_text().split(": ")[1]) for i in range(chips.count())) == count
    expect(page.locator("#selection-members img")).to_have_count(min(count, 40))
    expect(page.locator("#selection-mean img")).to_have_count(1)
    with page.expect_download() as download:
        page.click("#selection-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "index,split,label,x,y,z1,z2" and len(lines) == count + 1
    page.fill("#selection-name", "middle")
    page.click("#selection-keep")
    expect(page.locator("#selection-groups .chip")).to_have_text(f"middle ({count})")
    page.select_option("#arithmetic-a", "group:middle")  # a kept group is latent arithmetic's A
    expect(page.locator("#arithmetic-status")).to_contain_text(f"mean of A's {count} ")
    page.screenshot(path=str(ARTIFACTS / "explorer-selection.png"), full_page=True)


def test_latent_arithmetic_adds_a_class_vector_to_the_pinned_digit(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    counts = page.evaluate("() => document.getElementById('map').data.slice(0, 10).map((t) => t.x.length)")
    status = page.locator("#arithmetic-status")
    expect(status).to_contain_text(
        f"the most typical 0 + s \u00d7 (mean of A's {counts[1]} \u2212 mean of B's {counts[0]})"
    )
    expect(page.locator("#arithmetic-strip img")).to_have_count(7)
    index = click_isolated_digit(page)
    expect(status).to_contain_text(f"test {index} (", timeout=15_000)
    first = page.locator("#arithmetic-strip img").first.get_attribute("src")
    decoded = page.evaluate(
        """(index) => fetch('/api/models/full-2d/interpolate', {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ start: { index }, end: { index }, steps: 2 }),
        }).then((response) => response.json())""",
        index,
    )
    assert first == decoded["images"][0]  # s = 0 is the pinned digit's own decoding
    page.locator("#arithmetic-strength").fill("-2")
    expect(status).to_contain_text(f"test {index} (")
    expect(status).to_contain_text("s from 0 to -2")


def test_the_url_keeps_the_view_and_a_shared_link_restores_it(page: Page, live_url: str) -> None:
    """Zoom, pin, select and interpolate; the link opened in a fresh page shows the same view."""
    open_explorer(page, live_url)
    page.evaluate("() => Plotly.relayout('map', {'xaxis.range': [-2, 2], 'yaxis.range': [-1.5, 1.5]})")
    index = click_isolated_digit(page)
    expect(page.locator("#pins .pin")).to_have_count(1)
    select_box(page, [[-0.5, -0.5], [0.5, 0.5]])
    page.fill("#path-labels", "1 7 0")
    page.click("#path-go")
    expect(page.locator("#strip img")).to_have_count(19)  # two legs of 10 steps, the middle end once
    page.wait_for_function("() => new URLSearchParams(location.search).has('path')")
    link = page.url
    count = page.locator("#selection-panel").get_attribute("data-count")
    assert parse_qs(urlsplit(link).query)["pins"] == [str(index)]

    shared = page.context.new_page()
    shared.goto(link)
    expect(shared.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(shared.locator("#pins .pin")).to_have_count(1)
    expect(shared.locator(f"#pins img[alt='test image {index}']")).to_have_count(1)
    expect(shared.locator("#selection-panel")).to_have_attribute("data-count", count or "", timeout=15_000)
    expect(shared.locator("#strip img")).to_have_count(19)
    ranges = "() => ['xaxis', 'yaxis'].map((axis) => document.getElementById('map').layout[axis].range)"
    zoomed = page.evaluate(ranges)
    assert zoomed[0][0] == pytest.approx(-2, abs=0.5) and zoomed[0][1] - zoomed[0][0] < 5
    restored = shared.evaluate(ranges)
    assert restored[0] == pytest.approx(zoomed[0], abs=1e-3) and restored[1] == pytest.approx(
        zoomed[1], abs=1e-3
    )
    strip = "() => [...document.querySelectorAll('#strip img')].map((image) => image.src)"
    assert shared.evaluate(strip) == page.evaluate(strip)
    kept = parse_qs(urlsplit(shared.url).query)  # the restored page keeps the same view
    assert kept["selection"] == parse_qs(urlsplit(link).query)["selection"] and kept["pins"] == [str(index)]
    shared.close()


def test_the_strip_and_the_map_download_as_pictures(page: Page, live_url: str) -> None:
    open_explorer(page, live_url)
    expect(page.locator("#strip-downloads")).to_be_hidden()
    page.fill("#path-labels", "1 0")
    page.click("#path-go")
    expect(page.locator("#strip img")).to_have_count(10)
    for suffix, magic in (("png", b"\x89PNG"), ("gif", b"GIF89a")):
        with page.expect_download() as download:
            page.click(f"#strip-{suffix}")
        assert download.value.suggested_filename == f"full-2d-interpolation.{suffix}"
        assert Path(download.value.path()).read_bytes().startswith(magic)
    with page.expect_download() as download:
        page.locator("#map").hover()
        page.click("#map .modebar-btn[data-title='Download plot as a PNG']")
    assert download.value.suggested_filename == "full-2d-latent-map.png"
    picture = Path(download.value.path()).read_bytes()
    assert picture.startswith(b"\x89PNG") and len(picture) > 20_000  # the points drawn, not a blank plot


def test_both_splits_show_70000_points_a_density_view_and_select_across_splits(
    page: Page, live_url: str
) -> None:
    open_explorer(page, live_url)
    page.select_option("#points", "all")
    expect(page.locator("#map")).to_have_attribute("data-points", "70000", timeout=60_000)
    counts = page.evaluate("() => document.getElementById('map').data.slice(0, 10).map((t) => t.x.length)")
    assert sum(counts) == 70_000
    assert parse_qs(urlsplit(page.url).query)["points"] == ["all"]
    select_box(page, [[-0.3, -0.3], [0.3, 0.3]])
    with page.expect_download() as download:
        page.click("#selection-csv")
    splits = [line.split(",")[1] for line in Path(download.value.path()).read_text().splitlines()[1:]]
    assert {"test", "train"} <= set(splits) and splits.count("train") > splits.count("test")  # 6 to 1
    page.check("#density")
    expect(page.locator("#map")).to_have_attribute("data-density", "true")
    traces = page.evaluate("() => document.getElementById('map').data.map((t) => [t.type, t.visible])")
    assert ["histogram2d", None] in traces or any(t[0] == "histogram2d" for t in traces)
    assert all(
        visible == "legendonly" for kind, visible in traces if kind == "scattergl" and visible is not None
    )
    page.screenshot(path=str(ARTIFACTS / "explorer-density.png"), full_page=False)
