"""Front-end responsiveness in headless Chromium: navigation to an interactive map of the 10,000 test
digits and of all 70,000 (both splits; the first such load also encodes the training split on the server),
and how many decoded images per second the live hover shows while the mouse sweeps across each for 5 s.

Usage: python bench/browser_fps.py [--seconds 5] [--runs 3]
(needs Debian's chromium and the default models under $LATENT_ATLAS_HOME; traffic stays on 127.0.0.1)
"""

from __future__ import annotations

import argparse
import math
import shutil
import time

from playwright.sync_api import Page, sync_playwright
from serve_latency import free_port, start_server

COUNT_UPDATES = """() => {
  window.__decoded = 0;
  const image = document.getElementById('hover-image');
  image.addEventListener('load', () => { window.__decoded += 1; });
}"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3, help="page loads to time")
    args = parser.parse_args()
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    port = free_port()
    process, startup = start_server(port, options=("--no-training",))  # nothing else on the CPU
    results = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for points in ("test", "all"):
                # A context of its own: each first load starts with an empty cache (Plotly not yet held).
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                url = f"http://127.0.0.1:{port}/?points={points}"
                results[points] = (_loads(page, url, args.runs), _sweep(page, args.seconds))
                context.close()
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"server healthy {startup:.2f} s after launch")
    for points, (loads, (moves, decoded)) in results.items():
        shown = "10,000 test digits" if points == "test" else "70,000 digits (both splits)"
        timings = ", ".join(f"{s:.2f}" for s in loads)
        print(f"{shown}: navigation to interactive map {timings} s (first, then cached)")
        print(f"  hover sweep: {moves} mouse moves in {args.seconds:.0f} s, {decoded} decoded images shown")
        rate = decoded / args.seconds
        print(f"  points={points} hover_updates_per_second={rate:.1f} first_load_seconds={loads[0]:.2f}")
    ratio = results["all"][0][0] / results["test"][0][0]
    warm = min(results["all"][0][1:] or [math.nan]) / min(results["test"][0][1:] or [math.nan])
    print(f"first load, 70,000 / 10,000 points: {ratio:.2f}; later loads (best of each): {warm:.2f}")


def _loads(page: Page, url: str, runs: int) -> list[float]:
    """Seconds from navigation to an interactive map, `runs` times."""
    loads = []
    for _ in range(runs):
        began = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#map[data-ready=true]", state="attached", timeout=120_000)
        loads.append(time.perf_counter() - began)
    return loads


def _sweep(page: Page, seconds: float) -> tuple[int, int]:
    """(mouse moves, decoded images shown) while the mouse sweeps the map for `seconds`."""
    page.evaluate(COUNT_UPDATES)
    box = page.locator("#map .nsewdrag").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    moves, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        # A Lissajous sweep: every move lands on a new point of the map.
        page.mouse.move(
            cx + 0.4 * box["width"] * math.sin(1.3 * elapsed),
            cy + 0.4 * box["height"] * math.sin(2.1 * elapsed),
        )
        moves += 1
    page.wait_for_timeout(300)  # let the last request land
    return moves, page.evaluate("() => window.__decoded")


if __name__ == "__main__":
    main()
