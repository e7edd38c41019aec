"""The lab page in a real browser: every panel renders from the quick zoo's real data."""

from playwright.sync_api import Page, expect

from model.zoo import QUICK_EPOCHS

TRACES = "(id) => document.getElementById(id).data.length"
FIRST_EPOCH = """async () => {
  const graph = document.getElementById('evolution');
  const before = graph.data[0].x.slice(0, 5).join();
  await Plotly.animate(graph, ['1'], {frame: {duration: 0, redraw: false}, transition: {duration: 0}});
  return [before, graph.data[0].x.slice(0, 5).join()];
}"""


def open_lab(page: Page, url: str) -> None:
    page.goto(url + "/lab")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)


def test_lab_draws_training_curves_and_the_map_per_epoch(page: Page, live_url: str) -> None:
    open_lab(page, live_url)
    # -ELBO, reconstruction and KL, train and test; the test KL term's split and the bound on I(x; z)
    assert page.evaluate(TRACES, "curves") == 9
    split = page.evaluate("() => document.getElementById('curves').data.slice(6).map((t) => [t.name, t.y])")
    assert [name for name, _ in split] == ["I(x; z)", "KL(q(z) ‖ p(z))", "bound on I: log N"]
    assert all(len(y) == QUICK_EPOCHS for _, y in split) and 0 < split[0][1][-1] <= split[2][1][-1]
    points = page.evaluate("() => document.getElementById('curves').data[1].y.length")
    assert points == QUICK_EPOCHS
    frames = page.evaluate("() => document.getElementById('evolution')._transitionData._frames.length")
    steps = page.evaluate("() => document.getElementById('evolution').layout.sliders[0].steps.length")
    assert frames == steps == QUICK_EPOCHS
    # Step to the first epoch: the digits move to where they sat then.
    before, after = page.evaluate(FIRST_EPOCH)
    assert before != after


def test_beta_slider_swaps_the_map_and_moves_along_the_rate_distortion_curve(
    page: Page, live_url: str
) -> None:
    open_lab(page, live_url)
    expect(page.locator("#sweep-map")).to_have_attribute("data-model", "full-2d", timeout=10_000)
    expect(page.locator("#beta")).to_have_attribute("max", "3")  # recon-2d, full-2d, beta-4-2d, kl-2d
    assert page.evaluate("() => document.getElementById('rate-distortion').data[0].x.length") == 4
    expect(page.locator("#sweep-missing")).to_contain_text("latent-atlas train --zoo beta")
    ring = "() => document.getElementById('rate-distortion').data[1].x[0]"
    before = page.evaluate(ring)
    page.locator("#beta").fill("2")
    expect(page.locator("#sweep-map")).to_have_attribute("data-model", "beta-4-2d", timeout=10_000)
    expect(page.locator("#beta-value")).to_contain_text("β = 4")
    assert page.evaluate(ring) < before  # a larger beta spends fewer nats of KL


def test_estimator_panel_measures_on_demand(page: Page, live_url: str) -> None:
    open_lab(page, live_url)
    page.click("#measure")
    expect(page.locator("#estimator-ratio")).to_contain_text("at S = 1000", timeout=60_000)
    lines = page.evaluate(
        "() => document.getElementById('estimators').data.map((t) => [t.x.length, t.y[0] > 0])"
    )
    assert lines == [[4, True]] * 4  # both estimators, for the encoder's weights and for (mu, logvar)
    score, reparam, *_ = page.evaluate("() => document.getElementById('estimators').data.map((t) => t.y[0])")
    assert score > 10 * reparam


def test_evaluation_table_fills_in_when_asked(page: Page, live_url: str) -> None:
    open_lab(page, live_url)
    page.select_option("#model", "full-16d")  # no other test evaluates it: it starts unevaluated
    expect(page.locator("#evaluation-status")).to_contain_text("not evaluated yet", timeout=10_000)
    page.click("#evaluate")
    expect(page.locator("#evaluation td[data-key=fid_prior]")).to_have_count(1, timeout=60_000)
    expect(page.locator("#evaluation tr")).to_have_count(13)
    units = int(page.locator("#evaluation td[data-key=active_units]").inner_text())
    assert 1 <= units <= 16
    expect(page.locator("#evaluation-status")).to_contain_text("500 test images")


def test_a_collapsed_map_is_drawn_at_the_prior_scale(page: Page, live_url: str) -> None:
    """KL-only codes all sit at the origin: the map must show one blob there, not zoom into 1e-3, and
    the lab warns of the collapse."""
    open_lab(page, live_url)
    page.select_option("#model", "kl-2d")
    expect(page.locator("#evolution")).to_have_attribute("data-model", "kl-2d", timeout=10_000)
    low, high = page.evaluate("() => document.getElementById('evolution').layout.xaxis.range")
    assert high - low >= 2 and low < 0 < high
    # z says nothing of x: the lab says the posterior collapsed; full-2d's says nothing
    expect(page.locator("#curves-warning")).to_contain_text("Posterior collapse: I(x; z) is 0.0")
    page.select_option("#model", "full-2d")
    expect(page.locator("#evolution")).to_have_attribute("data-model", "full-2d", timeout=10_000)
    expect(page.locator("#curves-warning")).to_be_hidden()


def test_lab_names_what_each_model_was_trained_on(page: Page, binarized_url: str) -> None:
    open_lab(page, binarized_url)
    bernoulli = "with p(x|z): Bernoulli"
    expect(page.locator("#trained-on")).to_contain_text(f"Full ELBO {bernoulli}, on pixel intensities")
    expect(page.locator("#estimator-bound")).to_contain_text("trained on: Full ELBO")
    expect(page.locator("#sweep-missing")).to_contain_text("beta-2-2d (trained on binarized images)")
    page.select_option("#model", "beta-2-2d")
    expect(page.locator("#trained-on")).to_contain_text(f"IWAE, k = 3 {bernoulli}, on binarized images")
    expect(page.locator("#estimator-bound")).to_contain_text("the IWAE bound with k = 3")
    page.click("#evaluate")
    expect(page.locator("#evaluation-status")).to_contain_text("binarized test images", timeout=60_000)


def test_the_lab_opens_on_the_model_its_url_names_and_keeps_it(page: Page, live_url: str) -> None:
    page.goto(live_url + "/lab?model=full-16d")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert page.eval_on_selector("#model", "el => el.value") == "full-16d"
    expect(page.locator("#evolution")).to_have_attribute("data-model", "full-16d")
    page.select_option("#model", "kl-2d")
    expect(page.locator("#evolution")).to_have_attribute("data-model", "kl-2d")
    assert page.url.endswith("/lab?model=kl-2d")  # a reload or a shared link opens on it
    page.goto(live_url + "/lab?model=no-such-model")  # an unknown one: the picker's first choice
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert page.eval_on_selector("#model", "el => el.value") == "full-2d"
