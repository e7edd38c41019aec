"""A map of a million points in headless Chromium: the characters-1m set's training split (1,000,012 glyphs)
drawn as density tiles against the same model's test split (6,240 points) drawn point by point: the
seconds to encode the million on the server, the first load of each map (navigation to the map drawn,
its tiles received), decoded images per second while the mouse sweeps the million, a zoom to a view
drawn as points, and the page's memory (its JS heap, and the resident memory of the browser's renderer
processes) on each.

Usage: python bench/million_points.py [--home DIR] [--seconds 5]
Prepares what is missing in the home first (about 5 minutes on 2 cores): `latent-atlas data --dataset
characters-1m` and one epoch of a 16-D MLP, characters-1m-full-16d.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright
from serve_latency import HOST, free_port, start_server

from model.home import atlas_home, models_root

MODEL = "characters-1m-full-16d"
TILES_DRAWN = """() => {
  const map = document.getElementById('map');
  const wanted = Number(map.dataset.tiles || 0);
  const received = performance.getEntriesByType('resource').filter((e) => e.name.includes('/map/tiles/'));
  return wanted > 0 && received.length >= wanted;
}"""
ZOOM_IN = """() => {
  const g = document.getElementById('map');
  const [x0, x1] = g.layout.xaxis.range, [y0, y1] = g.layout.yaxis.range;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, w = (x1 - x0) / 3, h = (y1 - y0) / 3;
  delete g.dataset.viewPoints;
  return Plotly.relayout(g, {'xaxis.range': [cx - w, cx + w], 'yaxis.range': [cy - h, cy + h]});
}"""
COUNT_UPDATES = """() => {
  window.__decoded = 0;
  document.getElementById('hover-image').addEventListener('load', () => { window.__decoded += 1; });
}"""


def prepare(home: Path) -> None:
    """The data set and the model, made once."""
    cli = [str(Path(sys.executable).with_name("latent-atlas")), "--home", str(home)]
    if not (models_root(home) / MODEL).is_dir():
        subprocess.run([*cli, "data", "--dataset", "characters-1m"], check=True)
        train = ["train", MODEL, "--dataset", "characters-1m", "--latent-dim", "16", "--epochs", "1"]
        subprocess.run([*cli, *train], check=True)


def post(url: str) -> dict[str, object]:
    request = urllib.request.Request(url, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)  # type: ignore[no-any-return]


def encode_million(port: int) -> float:
    """Seconds for the server to encode the training split (and warm its density map)."""
    url = f"http://{HOST}:{port}/api/models/{MODEL}/encodings?split=train"
    began = time.perf_counter()
    state = post(url)["state"]
    while state == "computing":
        time.sleep(0.1)
        with urllib.request.urlopen(url, timeout=30) as response:
            state = json.load(response)["state"]
    if state != "ready":
        raise SystemExit(f"the encoding ended {state}")
    return time.perf_counter() - began


def renderer_mb() -> float:
    """Resident memory of Chromium's renderer processes, in MB (from /proc; run nothing else in Chromium)."""
    total = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes()  # a renderer rewrites its arguments as one string
            if b"chromium" not in raw or b"--type=renderer" not in raw:
                continue
            status = (cmdline.parent / "status").read_text().splitlines()
            total += int(next(line for line in status if line.startswith("VmRSS")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def heap_mb(page: Page) -> float:
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    return metrics["JSHeapUsedSize"] / 2**20


def first_load(browser: Browser, port: int, points: str) -> tuple[Page, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # an empty cache each
    page = context.new_page()
    began = time.perf_counter()
    page.goto(f"http://{HOST}:{port}/?model={MODEL}&points={points}")
    page.wait_for_selector("#map[data-ready=true]", state="attached", timeout=120_000)
    if points != "test":
        page.wait_for_function(TILES_DRAWN, timeout=120_000)
    return page, time.perf_counter() - began


def sweep(page: Page, seconds: float) -> float:
    """Decoded images shown per second while the mouse sweeps the map."""
    page.evaluate(COUNT_UPDATES)
    box = page.locator("#map .nsewdrag").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        page.mouse.move(
            cx + 0.4 * box["width"] * math.sin(1.3 * elapsed),
            cy + 0.4 * box["height"] * math.sin(2.1 * elapsed),
        )
    page.wait_for_timeout(300)
    return float(page.evaluate("() => window.__decoded")) / seconds


def zoom_to_points(page: Page) -> tuple[float, int]:
    """Zoom until the view is drawn as points: -> (seconds from the last zoom, points drawn)."""
    for _ in range(12):
        began = time.perf_counter()
        page.evaluate(ZOOM_IN)
        page.wait_for_function(
            "() => document.getElementById('map').dataset.viewPoints !== undefined", timeout=60_000
        )
        drawn = int(page.evaluate("() => Number(document.getElementById('map').dataset.viewPoints)"))
        if drawn:
            return time.perf_counter() - began, drawn
    raise SystemExit("no view was drawn as points")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    home = args.home or atlas_home(None)
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    prepare(home)
    port = free_port()
    process, startup = start_server(port, home=home, options=("--no-training",))
    try:
        encoding = encode_million(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            small, small_load = first_load(browser, port, "test")
            small_heap, small_rss = heap_mb(small), renderer_mb()
            small.context.close()
            large, large_load = first_load(browser, port, "train")
            large_heap, large_rss = heap_mb(large), renderer_mb()
            rate = sweep(large, args.seconds)
            zoom_seconds, drawn = zoom_to_points(large)
            zoomed_heap, zoomed_rss = heap_mb(large), renderer_mb()
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    memory = "JS heap {:.0f} MB, renderers {:.0f} MB"
    print(f"server healthy {startup:.1f} s after launch; 1,000,012 glyphs encoded in {encoding:.1f} s")
    print(f"first load, 6,240 test points: {small_load:.2f} s ({memory.format(small_heap, small_rss)})")
    print(
        f"first load, 1,000,012 points (density): {large_load:.2f} s ({memory.format(large_heap, large_rss)})"
    )
    print(f"  ratio of first loads, million / test: {large_load / small_load:.2f}")
    print(f"hover over the million: {rate:.1f} decoded images shown per second")
    zoomed = memory.format(zoomed_heap, zoomed_rss)
    print(f"zoomed to a view of {drawn:,} points, drawn as points in {zoom_seconds:.2f} s ({zoomed})")


if __name__ == "__main__":
    main()
