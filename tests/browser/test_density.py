"""A map drawn as density in a real browser, on a server that draws more than 20,000 points so: the quick
zoo's 60,000 training digits encoded with progress, drawn as tiles, a class hidden from the tiles, hover
decoding and a box selection over them, and a zoom to a view drawn as points that click, pin and export
as any map's do."""

from playwright.sync_api import Page, expect

from model.data import Dataset
from tests.browser.test_explorer import click_isolated_digit

GRAPH = "document.getElementById('map')"
TILE_SOURCES = (
    f"() => ({GRAPH}.layout.images || []).filter((i) => i.name === 'density-tiles').map((i) => i.source)"
)


def test_a_large_map_is_drawn_as_tiles_then_as_points_when_zoomed_in(
    page: Page, dense_url: str, mnist: Dataset
) -> None:
    page.goto(dense_url + "/?model=full-16d&points=train")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(page.locator("#points-status")).to_contain_text("60,000 points as density", timeout=30_000)
    tiles = int(page.locator("#map").get_attribute("data-tiles") or 0)
    sources = page.evaluate(TILE_SOURCES)
    assert tiles > 0 and len(sources) == tiles and all("/map/tiles/" in source for source in sources)
    points = f"() => {GRAPH}.data.slice(0, 10).reduce((n, t) => n + t.x.filter((x) => x !== null).length, 0)"
    assert page.evaluate(points) == 0
    expect(page.locator("#colour-control")).to_be_hidden()
    expect(page.locator("#plane-control")).to_be_hidden()

    page.locator(".legend .traces").nth(1).locator(".legendtoggle").click()  # the legend hides the 1s
    without_ones = "colors=1f77b4%2C%2C2ca02c"  # the 0s' colour, none for the 1s, the 2s'
    page.wait_for_function(f"() => ({TILE_SOURCES})().every((source) => source.includes('{without_ones}'))")

    before = page.locator("#hover-coords").inner_text()
    box = page.locator("#map .nsewdrag").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    expect(page.locator("#hover-coords")).not_to_have_text(before)

    page.click("#export-view")  # a view of 60,000 points: too many to export
    expect(page.locator("#error")).to_contain_text(
        "zoom in until the map is drawn as points (at most 50,000)"
    )

    page.check("input[name=mode][value=box]")  # a box over the tiles: the server finds its points
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    expect(page.locator("#selection-status")).to_contain_text("training images selected", timeout=30_000)
    drawn_box = page.evaluate(f"() => {GRAPH}.layout.selections[0]")
    x0, x1, y0, y1 = (drawn_box[k] for k in ("x0", "x1", "y0", "y1"))
    region = page.request.post(
        dense_url + "/api/models/full-16d/selection/region",
        data={
            "polygon": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
            "split": "train",
            "labels": [0, *range(2, 10)],
        },
    ).json()
    assert region["count"] > 0
    expect(page.locator("#selection-panel")).to_have_attribute("data-count", str(region["count"]))
    assert page.locator("#selection-counts .chip[data-label='1']").count() == 0  # hidden: not selected
    page.check("input[name=mode][value=zoom]")

    page.evaluate(f"""() => {{
      const g = {GRAPH};
      const [x0, x1] = g.layout.xaxis.range, [y0, y1] = g.layout.yaxis.range;
      const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, w = (x1 - x0) / 30, h = (y1 - y0) / 30;
      return Plotly.relayout(g, {{'xaxis.range': [cx - w, cx + w], 'yaxis.range': [cy - h, cy + h]}});
    }}""")
    expect(page.locator("#points-status")).to_contain_text("of 60,000 points in view", timeout=30_000)
    drawn = int(page.locator("#map").get_attribute("data-view-points") or 0)
    assert 0 < drawn <= 50_000 and page.evaluate(TILE_SOURCES) == []
    assert page.evaluate(points) == drawn

    with page.expect_download() as download:  # the points in view, as one file
        page.click("#export-view")
    assert download.value.suggested_filename == "full-16d-train-pca-map.html"

    position = click_isolated_digit(page)
    caption = page.locator("#pins .pin figcaption").nth(1)  # the image's own: its split, index and class
    expect(caption).to_have_text(f"training {position}: {int(mnist.train.labels[position])}")
