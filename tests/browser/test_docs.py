"""The API docs render from this server alone: no CDN (the machines these tests run on have no internet,
like many a user's), no console errors (the page watch checks both)."""

from playwright.sync_api import Page, expect


def test_swagger_ui_lists_the_api_and_shows_decode_png_parameters(page: Page, live_url: str) -> None:
    page.goto(live_url + "/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() >= 15
    decode = page.locator(".opblock", has_text="/api/models/{model_id}/decode.png")
    decode.locator(".opblock-summary").click()
    expect(decode.locator(".parameters")).to_contain_text("instead of x and y: the full latent vector")
