"""The page in Japanese and back, in headless Chromium (Debian's chromium + Playwright).

The language switch (kept in the URL as ?lang=ja) changes every label, tooltip, warning and
explanation in place: the session, its network and its training stay as they were. Afterwards
no English word is left in the visible text, the tooltips or the accessible names, except names
(ReLU, Adam, tanh, sigmoid, SGD, chainrule, cr.save...) and the symbols of the formulas.
"""

import os
import re
import tempfile

import pytest
from playground_helpers import LiveServer, checked_page, chromium_context, wait_js
from tests.conftest import needs_chromium

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = needs_chromium

SHOTS = tempfile.mkdtemp(prefix="chainrule-playground-ja-")
NAMES = {  # names and formula symbols that stay as they are in every language
    "ReLU", "LeakyReLU", "Adam", "tanh", "sigmoid", "relu", "SGD", "L1", "L2", "XOR", "chainrule", "cr",
    "save", "explain", "Python", "English", "Linear", "MLP", "softplus", "exp", "log", "sin", "cos", "sign",
    "rate",
    "lr", "Infinity", "NaN", "Inf", "e", "out",
}
SEEN = """() => {
  const texts = [document.body.innerText, document.title];
  for (const element of document.querySelectorAll("[title], [aria-label], [placeholder]")) {
    for (const name of ["title", "aria-label", "placeholder"]) texts.push(element.getAttribute(name) || "");
  }
  for (const title of document.querySelectorAll("svg title")) texts.push(title.textContent);
  for (const option of document.querySelectorAll("option")) texts.push(option.textContent);
  return texts.join("\\n");
}"""


def english_words(text):
    """Latin words of two letters or more that are not names or symbols (x₁, ŷ and 1e-3 are not words)."""
    words = set(re.findall(r"(?<![\w.])[A-Za-z][A-Za-z']+(?![\w₀-₉])", text))
    return sorted(word for word in words if word not in NAMES and not re.fullmatch(r"[eE][+-]?\d*", word))


@pytest.fixture(scope="module")
def server():
    with LiveServer(max_sessions=4) as live:
        yield live


@pytest.fixture(scope="module")
def browser_context():
    with chromium_context(playwright_api) as context:
        yield context


def shot(page, name):
    path = os.path.join(SHOTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    print(f"\nscreenshot: {path}")


def test_switching_to_japanese_and_back_changes_every_word_but_not_the_network(browser_context, server):
    with checked_page(browser_context) as page:
        page.goto(f"{server.url}/?hidden=3,2&learning_rate=0.03&noise=10&regularization=l2&reg_rate=0.001")
        page.wait_for_selector(".node canvas")
        wait_js(page, "document.body.dataset.lang === 'en'")
        page.click("#step")
        page.click("#step")
        wait_js(page, "Number(document.body.dataset.epoch) >= 2")
        page.click("#view_backward")
        page.click(".node[data-layer='1'][data-neuron='0']")
        wait_js(page, "document.getElementById('explanation_text').textContent.includes('So ')")
        session, epoch = page.evaluate("[document.body.dataset.session, document.body.dataset.epoch]")

        page.select_option("#lang", "ja")
        wait_js(page, "document.documentElement.lang === 'ja' && document.body.dataset.lang === 'ja'")
        wait_js(page, "document.getElementById('explanation_text').textContent.includes('よって')")
        assert "lang=ja" in page.url
        now = page.evaluate("[document.body.dataset.session, document.body.dataset.epoch]")
        assert now == [session, epoch]      # the same session, not trained on by the switch
        assert page.locator("label:has(#learning_rate)").inner_text().startswith("学習率")
        shot(page, "japanese-backward")
        page.click("#view_forward")
        page.dispatch_event(".hit[data-layer='2'][data-neuron='0'][data-source='1']", "click")
        wait_js(page, "document.getElementById('explanation_text').textContent.includes('ツールチップ')")
        page.click("#show_test")
        left = english_words(page.evaluate(SEEN))
        assert not left, left
        shot(page, "japanese-forward")

        page.select_option("#lang", "en")
        wait_js(page, "document.documentElement.lang === 'en' && document.body.dataset.lang === 'en'")
        wait_js(page, "document.getElementById('explanation_text').textContent.includes('So ')")
        assert "lang=en" in page.url
        assert page.evaluate("document.body.dataset.session") == session
        assert page.locator("label:has(#learning_rate)").inner_text().startswith("Learning rate")
        assert "学" not in page.evaluate(SEEN).replace("日本語", "")


def test_a_page_opened_with_lang_ja_starts_in_japanese(browser_context, server):
    with checked_page(browser_context) as page:
        page.goto(f"{server.url}/?lang=ja&activation=sigmoid&hidden=8,8,8,8,8,8&learning_rate=0.3")
        page.wait_for_selector(".node canvas")
        wait_js(page, "document.body.dataset.lang === 'ja'")
        page.click("#step")
        wait_js(page, "document.body.dataset.diagnosis === 'vanishing'")
        assert page.locator("#diagnosis").inner_text().startswith("勾配消失")
        assert page.title().startswith("chainrule プレイグラウンド")
        left = english_words(page.evaluate(SEEN))
        assert not left, left
