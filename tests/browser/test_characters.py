"""The explorer on a characters model: many classes on the map, names and the class filter, the
tutorial's Fig. 5 strip, and a drawn letter encoded among its class."""

from playwright.sync_api import Page, expect

from model.sources import characters
from tests.browser.conftest import PageWatch

MODEL = "characters-full-16d"


def open_model(page: Page, url: str, model: str = MODEL) -> None:
    page.goto(url + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=30_000)
    page.select_option("#model", model)
    expect(page.locator("#map")).to_have_attribute("data-model", model, timeout=30_000)


CLASS_TRACES = "() => document.getElementById('map').data.filter((t) => t.uid.startsWith('class-'))"


def test_the_map_names_its_many_classes_and_filters_them(page: Page, characters_url: str) -> None:
    open_model(page, characters_url)
    groups = page.locator("#model optgroup")
    expect(groups).to_have_count(1)
    assert groups.first.get_attribute("label") == characters.INFO.title
    traces = page.evaluate(f"() => ({CLASS_TRACES})().map((t) => [t.name, t.x.length, t.hoverinfo])")
    assert [name for name, _, _ in traces] == list(characters.CLASSES)
    assert sum(count for _, count, _ in traces) == len(characters.CLASSES) * 24
    assert {hover for _, _, hover in traces} == {"name"}  # the class's name on hover, no legend
    assert page.locator(".legend .traces").count() == 0
    expect(page.locator("#dataset-note")).to_contain_text("Synthetic")
    page.fill("#class-filter", "@9a")
    visible = page.evaluate(f"() => ({CLASS_TRACES})().filter((t) => t.visible !== false).map((t) => t.name)")
    assert visible == ["9", "a", "@"]
    page.fill("#class-filter", "")
    assert page.evaluate(f"() => ({CLASS_TRACES})().every((t) => t.visible !== false)")
    before = page.locator("#hover-image").get_attribute("src")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"])
    expect(page.locator("#hover-image")).not_to_have_attribute("src", before or "")


def test_figure_5_is_one_strip_through_at_nine_and_a(
    page: Page, watch: PageWatch, characters_url: str
) -> None:
    open_model(page, characters_url)
    page.locator("#steps").fill("6")
    page.fill("#path-labels", "@ 9 a")
    page.click("#path-go")
    expect(page.locator("#strip img")).to_have_count(2 * 5 + 1)
    expect(page.locator("#strip")).to_have_attribute("data-ends", "3")
    path = page.evaluate(
        "() => document.getElementById('map').layout.shapes.find((s) => s.type === 'path').path"
    )
    assert path.count("L") == 2 * 5  # the path through every decoded point, drawn on the map
    page.fill("#path-labels", "@ ~")
    page.click("#path-go")
    expect(page.locator("#error")).to_contain_text("end.label: '~' is not a class of this model's data")
    assert len(watch.errors) == 1 and "422" in watch.errors[0]  # the browser logs the refused request
    watch.errors.clear()


def test_a_drawn_plus_is_encoded_among_pluses(page: Page, characters_url: str) -> None:
    open_model(page, characters_url)
    expect(page.locator("#draw-panel")).to_be_visible()
    box = page.locator("#pad").bounding_box()
    assert box is not None
    left, top, w, h = box["x"], box["y"], box["width"], box["height"]
    for (x0, y0), (x1, y1) in (((0.5, 0.15), (0.5, 0.85)), ((0.15, 0.5), (0.85, 0.5))):
        page.mouse.move(left + x0 * w, top + y0 * h)
        page.mouse.down()
        page.mouse.move(left + x1 * w, top + y1 * h, steps=12)
        page.mouse.up()
        page.wait_for_timeout(300)
    expect(page.locator("#encoding .neighbors img")).to_have_count(8)
    expect(page.locator("#encoding")).to_contain_text("#2 at")
    names = [text.split(" ")[0] for text in page.locator("#encoding .neighbors figcaption").all_inner_texts()]
    assert names.count("+") >= 5, names
