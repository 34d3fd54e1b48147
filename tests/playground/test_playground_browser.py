"""The real page in headless Chromium (Debian's chromium + Playwright), against a live server.

Skips cleanly when /usr/bin/chromium or playwright is missing. Screenshots go to a temporary
directory (printed with -s).

The page runs under the server's Content-Security-Policy (no inline script, no eval): every test
fails if the page triggers a CSP violation. Playwright's wait_for_function compiles its predicate
inside the page, which that policy forbids, so waits here poll page.evaluate (a DevTools call,
outside the page's policy) from Python instead.
"""

import os
import tempfile
import time

import pytest
from playground_helpers import LiveServer, checked_page, chromium_context, wait_for, wait_js
from tests.conftest import needs_chromium

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = needs_chromium   # each test is skipped (and counted) on its own without the browser

SHOTS = tempfile.mkdtemp(prefix="chainrule-playground-shots-")


@pytest.fixture(scope="module")
def server():
    with LiveServer(max_sessions=8) as live:
        yield live


@pytest.fixture(scope="module")
def browser_context():
    with chromium_context(playwright_api) as context:
        yield context


@pytest.fixture
def page(browser_context):
    with checked_page(browser_context) as page:
        yield page


def shot(page, name):
    path = os.path.join(SHOTS, f"{name}.png")
    page.screenshot(path=path)
    print(f"\nscreenshot: {path}")
    return path


def number(page, selector):
    text = page.locator(selector).text_content()
    return float(text) if text not in ("—", "") else float("inf")


def open_page(page, server, query=""):
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector(".node canvas")
    wait_js(page, "document.body.dataset.epoch !== undefined")


def play_until(page, condition, timeout=40):
    page.click("#play")
    try:
        wait_for(condition, timeout=timeout, interval=0.25)
    finally:
        if page.locator("#play").text_content() != "▶":
            page.click("#play")


def test_relu_learns_the_circle(page, server):
    open_page(page, server, "?dataset=circle&activation=relu&hidden=8,8&learning_rate=0.1")
    assert page.locator("#activation").input_value() == "relu"
    play_until(page, lambda: number(page, "#test_loss") < 0.1)
    epoch = int(page.locator("#epoch").text_content())
    assert epoch <= 300, f"took {epoch} epochs"
    shot(page, "relu-circle")


def test_deep_sigmoid_warns_of_vanishing_gradients(page, server):
    open_page(page, server, "?dataset=circle&hidden=8,8")
    page.select_option("#activation", "sigmoid")
    wait_js(page, "document.querySelector('#layer_count').textContent.startsWith('2')")
    for count in range(3, 7):
        page.click("#add_layer")
        wait_js(page, f"document.querySelector('#layer_count').textContent.startsWith('{count}')")
    assert page.locator(".node[data-layer='6']").count() == 8
    play_until(page, lambda: page.locator("body").get_attribute("data-diagnosis") == "vanishing")
    message = page.locator("#diagnosis").text_content()
    assert "Vanishing gradients" in message and "sigmoid" in message
    shot(page, "sigmoid-vanishing")


def test_gradient_view(page, server):
    open_page(page, server, "?activation=tanh&hidden=4,3")
    page.click("#step")
    wait_js(page, "Number(document.body.dataset.epoch) >= 1")
    page.click("#view_backward")
    assert "view=backward" in page.url
    wait_js(page, "document.querySelector(\".node[data-layer='1'] .value\").textContent !== ''")
    widths = set(page.eval_on_selector_all(".link", "links => links.map(l => l.style.strokeWidth)"))
    assert len(widths) > 1, "links sized by |∂L/∂w|"
    assert "∂L/∂w" in page.locator("#legend_text").text_content()
    page.click("#view_forward")
    assert "weight w" in page.locator("#legend_text").text_content()
    shot(page, "gradient-view")


def test_url_round_trip(page, server, browser_context):
    query = ("?dataset=xor&noise=10&train_ratio=70&batch_size=20&seed=5&features=x1,x2,x1x2"
             "&hidden=5,3,2&activation=tanh&learning_rate=0.3&regularization=l2&reg_rate=0.001"
             "&optimizer=adam&residual=1&batch_norm=1&clip_norm=1&view=backward")
    open_page(page, server, query)
    assert page.locator("#optimizer").input_value() == "adam"
    page.select_option("#learning_rate", "0.01")
    wait_js(page, "location.search.includes('learning_rate=0.01')")
    url = page.url
    again = browser_context.new_page()
    open_page(again, server, url[len(server.url) + 1:])
    for selector, value in [("#activation", "tanh"), ("#learning_rate", "0.01"), ("#optimizer", "adam"),
                            ("#regularization", "l2"), ("#reg_rate", "0.001"), ("#noise", "10"),
                            ("#train_ratio", "70"), ("#batch_size", "20")]:
        assert again.locator(selector).input_value() == value, selector
    for box in ("#residual", "#batch_norm", "#clip"):
        assert again.locator(box).is_checked(), box
    assert again.locator("#layer_count").text_content() == "3 hidden layers"
    assert again.locator(".node.off").count() == 4  # seven features, three on
    assert again.locator("#view_backward.active").count() == 1
    assert again.url == url
    again.close()


def test_export(page, server):
    open_page(page, server, "?hidden=3&activation=relu")
    page.click("#step")
    wait_js(page, "Number(document.body.dataset.epoch) >= 1")
    with page.expect_download() as download:
        page.click("#export_code")
    assert download.value.suggested_filename == "train_playground.py"
    with open(download.value.path(), encoding="utf-8") as file:
        code = file.read()
    assert "nn.Sequential(" in code and "nn.Linear(2, 3)" in code
    compile(code, "train_playground.py", "exec")
    with page.expect_download() as download:
        page.click("#export_model")
    assert os.path.getsize(download.value.path()) > 0


def test_leaving_or_reloading_the_page_closes_its_session(page, server):
    """The unload beacon (an empty POST .../close) gets past the same-origin and JSON checks, and a
    page that is going away does not start a new session as its event stream closes."""
    store = server.app.state.store
    before = set(store._sessions)
    open_page(page, server, "?hidden=2")
    for _ in range(3):
        page.reload()
        page.wait_for_selector(".node canvas")
        wait_js(page, "document.body.dataset.epoch !== undefined")
    wait_for(lambda: len(set(store._sessions) - before) == 1, timeout=10)   # only the open page's
    page.goto("about:blank")
    wait_for(lambda: not set(store._sessions) - before, timeout=10)


def test_screenshots_were_taken():
    time.sleep(0)
    assert os.listdir(SHOTS)
