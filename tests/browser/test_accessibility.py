"""Every page passes an axe-core audit (the engine accessibility checkers and browsers' own audits use):
headings, names, ARIA attributes where they are allowed, table headers, contrast. Each page is audited
once it has drawn what it shows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

AXE = Axe()
# The page, and what says it has drawn: the explorer's map, the lab's panels, the compare page's maps, the
# latent page's clamped traversal.
PAGES = {
    "/": ("#map", "data-ready", "true"),
    "/lab": ("body", "data-ready", "true"),
    "/compare": ("body", "data-ready", "true"),
    "/train": ("#train-id", "value", None),
    "/latent?model=full-16d": ("#clamp-strip", "data-dim", re.compile(r"\d+")),
}


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it stands: rule, impact and where."""
    found = AXE.run(page).response["violations"]
    return [
        {"rule": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in found
    ]


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_passes_an_accessibility_audit(page: Page, live_url: str, path: str) -> None:
    page.goto(f"{live_url}{path}")
    selector, attribute, value = PAGES[path]
    if value is None:
        expect(page.locator(selector)).not_to_have_value("", timeout=30_000)
    else:
        expect(page.locator(selector)).to_have_attribute(attribute, value, timeout=30_000)
    assert violations(page) == []
