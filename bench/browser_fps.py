"""Front-end responsiveness in headless Chromium: navigation to an interactive map, and how many decoded
images per second the live hover shows while the mouse sweeps across the map for 5 s.

Usage: python bench/browser_fps.py [--seconds 5]
(needs Debian's chromium and the default models under $LATENT_ATLAS_HOME; traffic stays on 127.0.0.1)
"""

from __future__ import annotations

import argparse
import math
import shutil
import time

from playwright.sync_api import sync_playwright
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
    process, startup = start_server(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            loads = []
            for _ in range(args.runs):
                began = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#map[data-ready=true]", state="attached", timeout=60_000)
                loads.append(time.perf_counter() - began)
            page.evaluate(COUNT_UPDATES)
            box = page.locator("#map .nsewdrag").bounding_box()
            assert box is not None
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            moves, began = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - began) < args.seconds:
                # A Lissajous sweep: every move lands on a new point of the map.
                page.mouse.move(
                    cx + 0.4 * box["width"] * math.sin(1.3 * elapsed),
                    cy + 0.4 * box["height"] * math.sin(2.1 * elapsed),
                )
                moves += 1
            page.wait_for_timeout(300)  # let the last request land
            decoded = page.evaluate("() => window.__decoded")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"server healthy {startup:.2f} s after launch")
    print(
        f"navigation to interactive map: {', '.join(f'{s:.2f}' for s in loads)} s (first load, then cached)"
    )
    print(f"hover sweep: {moves} mouse moves in {args.seconds:.0f} s, {decoded} decoded images shown")
    print(f"hover_updates_per_second={decoded / args.seconds:.1f} first_load_seconds={loads[0]:.2f}")


if __name__ == "__main__":
    main()
