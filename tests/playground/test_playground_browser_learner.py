"""What a learner sees, checked in the real page (headless Debian Chromium + Playwright):

- every explanation ends on the very number the page shows for the element clicked (its tooltip's
  first line), in both views, with regularisation and clipping on;
- the learner can pick another example (arrows, or a click on a data point) and is told which;
- the layout fits a phone (390 px) and a tablet (768 px) without horizontal scrolling, and nothing
  covers the explanation panel;
- the icon buttons have accessible names, and the page's number format is the server's.
"""

import json
import os
import re
import tempfile

import pytest
from playground_helpers import LiveServer, checked_page, chromium_context, wait_js
from tests.conftest import needs_chromium

from chainrule.playground.shown import shown

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = needs_chromium   # each test is skipped (and counted) on its own without the browser

SHOTS = tempfile.mkdtemp(prefix="chainrule-playground-learner-shots-")
SETUP = ("?dataset=circle&activation=tanh&hidden=4,3&learning_rate=0.3&regularization=l2&reg_rate=0.003"
         "&clip_norm=1&batch_size=10")
BOXES = ("els => els.map(e => { const r = e.getBoundingClientRect();"
         " return {x: r.x, y: r.y, width: r.width, height: r.height}; })")
FINAL = re.compile(r"^So (.+?) = (\S+)", re.MULTILINE)


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


def trained_page(page, server, query=SETUP, epochs=3):
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector(".node canvas")
    for _ in range(epochs):
        page.click("#step")
    wait_js(page, f"Number(document.body.dataset.epoch) >= {epochs}", timeout=30)
    assert page.locator("#play").get_attribute("aria-label") == "Play"  # not playing: numbers stay put
    return page


def session_of(page, server):
    """The server's session behind the page (its id is in the download links)."""
    session_id = page.locator("#export_model").get_attribute("href").split("/")[3]
    return server.app.state.store.get(session_id)


def click_and_explain(page, selector, view, target, dispatch=False):
    """Click an element, wait for its explanation and for the page to show the same example."""
    element = page.locator(selector)
    if dispatch:
        element.dispatch_event("click")
    else:
        element.click()
    key = json.dumps(target, separators=(",", ":"))
    wait_js(
        page, "([view, key]) => { const p = document.querySelector('#explanation');"
        " return !p.hidden && p.dataset.view === view && p.dataset.target === key"
        " && document.body.dataset.example === p.dataset.example; }", arg=[view, key])
    text = page.locator("#explanation_text").text_content()
    symbol, value = FINAL.findall(text)[-1]
    return text, symbol, value


def tooltip(page, selector):
    """The tooltip's first line, "symbol = value", split."""
    element = page.locator(selector)
    title = element.get_attribute("title")
    if title is None:  # an SVG link: its <title> child
        title = element.locator("title").text_content()
    first = title.split("\n", 1)[0]
    symbol, value = first.split(" = ")
    return symbol, value


def wait_for_note(page, start):
    wait_js(page, "start => document.querySelector('#example_note').textContent.startsWith(start)", arg=start)


def link(layer, neuron, source):
    return f".hit[data-layer='{layer}'][data-neuron='{neuron}'][data-source='{source}']"


def node(layer, neuron):
    return f".node[data-layer='{layer}'][data-neuron='{neuron}']"


ELEMENTS = [  # (selector, target [layer, neuron, source], dispatch the click?)
    (link(1, 1, 1), [1, 1, 1], True),
    (link(2, 2, 0), [2, 2, 0], True),
    (link(3, 0, 2), [3, 0, 2], True),
    (node(1, 3), [1, 3, None], False),
    (node(2, 0), [2, 0, None], False),
    (node(3, 0), [3, 0, None], False),
]


@pytest.mark.parametrize("view", ["backward", "forward"])
def test_every_explanation_ends_on_the_number_the_page_shows(page, server, view):
    trained_page(page, server)
    page.click(f"#view_{view}")
    for selector, target, dispatch in ELEMENTS:
        text, symbol, value = click_and_explain(page, selector, view, target, dispatch)
        page.wait_for_timeout(150)  # the state push that follows the explanation
        assert (symbol, value) == tooltip(page, selector), (selector, text)
        assert "What the network sees" in text and "x₂/3" in text  # the scaling is said
    if view == "forward":  # an input's name explains how it is made
        text, symbol, value = click_and_explain(page, ".feature-label >> nth=1", view, [0, 1, None])
        assert (symbol, value) == tooltip(page, ".node[data-feature='x2']")
        assert "input x₂ = x₂/3 =" in text
    else:  # with L2 and clipping on, both are written into a weight's derivation
        text, _, _ = click_and_explain(page, link(2, 2, 0), view, [2, 2, 0], dispatch=True)
        assert "Regularisation L2" in text and "Clipping ‖g‖ ≤ 1" in text
        assert re.search(r"∂L/∂w = \S+ / 10 = ", text), "the batch sum divided by the batch size"
    page.screenshot(path=os.path.join(SHOTS, f"explained-{view}.png"), full_page=True)


def test_the_learner_picks_another_example_and_is_told_which(page, server):
    trained_page(page, server)
    page.click("#view_backward")
    text, _, value = click_and_explain(page, link(1, 0, 1), "backward", [1, 0, 1], dispatch=True)
    note = page.locator("#example_note").text_content()
    assert "1st of the 10 examples in the last batch" in note
    page.click("#example_next")
    wait_js(page, "document.querySelector('#example_note').textContent.includes('2nd of the 10')")
    second = page.locator("#explanation_text").text_content()
    number = re.search(r"#(\d+)", page.locator("#example_note").text_content()).group(1)
    assert f"Example #{number} of the" in second
    assert FINAL.findall(second)[-1][1] == value, "another example, the same batch gradient"
    assert "written out above" in second and f"#{number}" in second.split("The whole batch")[1]

    # forward view, nothing selected: a click on a data point explains the output for that point
    page.click("#view_forward")
    page.click("#explanation_close")
    session = session_of(page, server)
    chosen = 7
    x1, x2 = (float(v) for v in session.dataset.train_points[chosen])
    box = page.locator("#boundary").bounding_box()
    page.mouse.click(box["x"] + (x1 + 6) / 12 * box["width"], box["y"] + (6 - x2) / 12 * box["height"])
    wait_for_note(page, f"Example #{chosen} ")
    wait_js(page, f"document.body.dataset.example === '{chosen}'")
    text = page.locator("#explanation_text").text_content()
    assert f"Example #{chosen} of the" in text and "So p = " in text  # the output, for that point
    assert FINAL.findall(text)[-1][1] == tooltip(page, node(3, 0))[1]
    assert f"example #{chosen}" in page.locator(node(3, 0)).get_attribute("title")
    page.click("#example_previous")
    wait_for_note(page, f"Example #{chosen - 1} ")


def _boxes_overlap(a, b):
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("width, height", [(390, 844), (768, 1024), (1400, 900)])
def test_the_layout_fits_the_screen_and_keeps_the_explanation_clear(browser_context, server, width, height):
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": width, "height": height})
        trained_page(page, server, SETUP.replace("hidden=4,3", "hidden=8,8,8,8,8,8"), epochs=1)
        page.click("#view_backward")
        click_and_explain(page, link(3, 2, 1), "backward", [3, 2, 1], dispatch=True)
        scroll_width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll_width <= inner, f"{scroll_width} px of page in a {inner} px window"
        network = page.locator("#network").bounding_box()
        right = network["x"] + network["width"] + 1
        for box in page.eval_on_selector_all(".node, .layer-label, .feature-label", BOXES):
            assert box["x"] >= network["x"] - 1 and box["x"] + box["width"] <= right, "cut off"
        for selector in ("#boundary", "#norms", "#curve", "#diagnosis"):
            box = page.locator(selector).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= inner + 0.5, selector
        panel = page.locator("#explanation").bounding_box()
        for selector in ("#network", "#norms", "#boundary", "#diagnosis", ".toolbar", "#legend"):
            assert not _boxes_overlap(panel, page.locator(selector).bounding_box()), selector
        page.locator("#explanation").scroll_into_view_if_needed()
        covered = page.evaluate("""() => {
            const panel = document.querySelector('#explanation');
            const r = panel.getBoundingClientRect();
            const points = [[0.1, 0.1], [0.5, 0.3], [0.9, 0.5], [0.5, 0.9]];
            return points.filter(([fx, fy]) => {
                const x = r.left + fx * r.width, y = Math.min(r.top + fy * r.height, innerHeight - 2);
                const top = document.elementFromPoint(x, y);
                return top && !panel.contains(top);
            }).length; }""")
        assert covered == 0, "something lies on top of the explanation"
        labels = page.eval_on_selector_all(".node .value:not(:empty)", BOXES)
        assert labels and all(box["height"] <= 14 for box in labels), "a neuron's number fits on one line"
        clashes = [(a, b) for n, a in enumerate(labels) for b in labels[n + 1:] if _boxes_overlap(a, b)]
        assert not clashes, "neurons' numbers run into each other"
        page.screenshot(path=os.path.join(SHOTS, f"layout-{width}.png"), full_page=True)
    finally:
        page.close()


def test_icon_buttons_legends_and_number_format(page, server):
    trained_page(page, server, epochs=1)
    for selector in ("#play", "#reset", "#step", "#add_layer", "#remove_layer", "#explanation_close",
                     "#example_previous", "#example_next"):
        element = page.locator(selector)
        assert element.get_attribute("aria-label") and element.get_attribute("title"), selector
    assert page.locator("label:has(#reg_rate)").text_content().strip().startswith("Regularisation rate")
    legend = page.locator(".curve-legend").text_content()
    assert "training loss" in legend and "test loss" in legend
    assert "class 0" in page.locator(".output-legend").text_content()
    assert "divided by 3" in page.locator("#pipeline").text_content() or \
        "x₁/3" in page.locator("#pipeline").text_content()
    values = [0.005, -0.11894, 12.5, 9.9996, 0.00099996, 1.2345e-5, 20000, 9999.6, 1.5625, 0.015625,
              -3.0517578125e-05, 0.1, 123456.0, -2.5e-7, 0.0012345, 0.0]
    page_format = page.evaluate("async (values) => { const m = await import('/static/colors.js');"
                                " return values.map(m.formatShown); }", values)
    assert page_format == [shown(v) for v in values]
