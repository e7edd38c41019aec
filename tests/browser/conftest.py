"""Debian's Chromium driven by Playwright, against the live server of tests/conftest.py. A missing
browser fails the run: these tests are part of the suite, not optional."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives the browser: marked so by where it lives, so no file can forget it."""
    for item in items:
        if Path(item.path).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


# A busy machine (the suite runs a worker per core) may take longer than Playwright's 5 s to show a state.
expect.set_options(timeout=20_000)


# One Chromium per test file, not per run: Playwright's sync API holds an event loop in the test process's
# thread while it runs, and a test file run after it in the same worker may call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does this)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class PageWatch:
    """What a page did that a user would call broken: console errors and requests leaving 127.0.0.1."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._check_host)
        # A blocked script or style fails silently unless reported: make every CSP violation an error.
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) =>"
            " console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"
        )

    def _check_host(self, request) -> None:  # type: ignore[no-untyped-def]
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
            self.outside.append(request.url)


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Remember whether the test itself failed, for its page's teardown."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Page, PageWatch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    watch = PageWatch(opened)
    yield opened, watch
    # The page as the failure left it (a full-page capture of every test cost the run about 30 s).
    if request.node.stash.get(FAILED, False) or watch.errors or watch.outside:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert watch.outside == [], "requests left 127.0.0.1"
    assert watch.errors == [], "console errors"


@pytest.fixture
def page(watched: tuple[Page, PageWatch]) -> Page:
    return watched[0]


@pytest.fixture
def watch(watched: tuple[Page, PageWatch]) -> PageWatch:
    return watched[1]
