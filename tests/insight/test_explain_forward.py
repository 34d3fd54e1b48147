"""explain(mode="forward") and `chainrule explain --mode forward`: the lesson's example in forward
mode (seed dw/dw = 1, tangents left to right, dL/dw = −24) and when each mode is cheaper."""

import numpy as np
import pytest
from tests.insight.test_explain import appear_in_order, lesson_graph, numbers_in
from tests.test_locale import Recorder

import chainrule as cr
import chainrule.locale as locale
from chainrule.cli import main

FORWARD_LESSON_LINES = [
    "dw/dw = 1",
    "at wx = w × x = 2 × 3 = 6:", "∂(wx)/∂w = x = 3", "d(wx)/dw = ∂(wx)/∂w × dw/dw = 3 × 1 = 3",
    "at diff = wx − y = 6 − 10 = −4:", "∂(diff)/∂(wx) = 1",
    "d(diff)/dw = ∂(diff)/∂(wx) × d(wx)/dw = 1 × 3 = 3",
    "at L = diff² = (−4)² = 16:", "∂L/∂(diff) = 2 × diff = 2 × (−4) = −8",
    "dL/dw = ∂L/∂(diff) × d(diff)/dw = −8 × 3 = −24",
    "so dL/dw = −24",
]


@pytest.fixture
def untranslated(monkeypatch):
    real = locale.translation
    recorder = Recorder(real("ja"))
    monkeypatch.setattr(locale, "translation", lambda lang: recorder if lang == "ja" else real(lang))
    return recorder.missing


def test_the_lesson_in_forward_mode_left_to_right():
    w, L = lesson_graph()
    text = cr.explain(L, mode="forward")
    assert appear_in_order(FORWARD_LESSON_LINES, text), text
    # values and tangents travel together: 6 then its tangent 3, -4 then 3, 16 then -8 and -24
    assert appear_in_order([1, 6, 3, 3, -4, 1, 3, 16, -8, -24], numbers_in(text))
    assert "the same number as the backward pass gives" in text
    assert "Backward pass" not in text and "warning" not in text
    costs = text[text.index("which is cheaper?"):]
    for words in ("ONE input", "ONE output", "n forward passes or m backward passes", "1960s",
                  "Here 1 number is differentiated by, so forward mode needs 1 pass;",
                  "reverse mode needs 1 backward pass", "cr.func.jvp"):
        assert words in costs, words
    assert w.grad is None
    L.backward()                  # the graph is still there, untouched
    assert w.grad.item() == -24.0


def test_explain_runs_no_hook_and_leaves_the_graph_alone():
    w = cr.tensor(2.0, requires_grad=True, name="w")
    wx = w * 3.0
    calls = []
    wx.register_hook(lambda g: calls.append(g))
    L = (wx - 10.0) ** 2
    assert "so dL/dw = −24" in cr.explain(L, mode="forward")
    assert calls == [] and w.grad is None
    L.backward()
    assert len(calls) == 1 and w.grad.item() == -24.0


def test_one_pass_per_input_with_paths_adding_up_at_each_node():
    x = cr.tensor(3.0, requires_grad=True, name="x")
    y = cr.tensor(2.0, requires_grad=True, name="y")
    text = cr.explain(x * x + x * y, mode="forward")
    assert appear_in_order([
        "Pass 1 of 2: the derivatives with respect to x", "dx/dx = 1",
        "d(xx)/dx = ∂(xx)/∂x [operand 1] × dx/dx + ∂(xx)/∂x [operand 2] × dx/dx = 3 × 1 + 3 × 1 = 6",
        "dL/dx = ∂L/∂(xx) × d(xx)/dx + ∂L/∂(xy) × d(xy)/dx = 1 × 6 + 1 × 2 = 8", "so dL/dx = 8",
        "Pass 2 of 2: the derivatives with respect to y", "d(xx)/dy = 0", "xx does not depend on y",
        "so dL/dy = 3"], text), text
    assert "Here 2 numbers are differentiated by, so forward mode needs 2 passes;" in text


def test_vectors_and_a_jacobian_in_words():
    w = cr.tensor(np.array([1.0, -2.0, 0.5]), dtype=cr.float64, requires_grad=True, name="w")
    x = cr.tensor(np.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]]), dtype=cr.float64, name="x")
    loss = cr.tanh(x @ w).sum()
    text = cr.explain(loss, mode="forward")
    assert "matmul is not element-wise" in text and "has 3 elements" in text
    expected = float((1 - np.tanh(x.numpy() @ w.numpy()) ** 2) @ x.numpy() @ np.ones(3))
    assert f"so dL/dw = {expected:.4g}".replace("-", "−") in text
    assert "Here 3 numbers are differentiated by, so forward mode needs 3 passes;" in text
    assert "the output is 1 number, so reverse mode needs 1 backward pass." in text


def test_markdown_and_latex_in_forward_mode():
    _, L = lesson_graph()
    markdown = cr.explain(L, mode="forward", style="markdown")
    assert "### Forward mode" in markdown and "### Forward or reverse mode: which is cheaper?" in markdown
    latex = cr.explain(L, mode="forward", style="latex")
    assert latex.count("\\begin{align*}") == latex.count("\\end{align*}") == 1
    assert ("\\frac{dL}{d w} &= \\frac{\\partial L}{\\partial \\mathrm{diff}} \\times "
            "\\frac{d \\mathrm{diff}}{d w} = -8 \\times 3 = -24") in latex
    assert "−" not in latex and "×" not in latex


def test_a_domain_error_is_flagged_and_a_big_graph_summarised():
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True, name="x")
    with np.errstate(all="ignore"):
        text = cr.explain(cr.log(x - 4.0), mode="forward")
    assert "warning" in text
    deep = x
    for _ in range(40):
        deep = cr.sin(deep)
    text = cr.explain(deep, mode="forward", max_nodes=5)
    assert "The graph has 40 ops (sin ×40)" in text and text.count("at sin") <= 5


def test_a_bad_mode_is_refused():
    _, L = lesson_graph()
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward'"):
        cr.explain(L, mode="sideways")


def test_the_command_line_in_english_and_japanese(capsys, untranslated):
    assert main(["explain", "--mode", "forward"]) == 0
    out = capsys.readouterr().out
    assert appear_in_order(FORWARD_LESSON_LINES, out)
    assert main(["explain", "--mode", "forward", "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    for line in FORWARD_LESSON_LINES[-2:]:
        assert line.replace("so ", "よって ") in out
    assert "フォワードモード" in out and "リバースモード" in out and "方向微分" in out
    x = cr.tensor(np.array([1.0, 2.0]), dtype=cr.float64, requires_grad=True, name="x")
    y = cr.tensor(2.0, dtype=cr.float64, requires_grad=True, name="y")
    with np.errstate(all="ignore"):
        for graph in ((x * y).sum() + y, cr.log(y - 4.0), (x.reshape(1, 2) @ x.reshape(2, 1)).sum()):
            for style in ("text", "markdown", "latex"):
                cr.explain(graph, mode="forward", style=style, lang="ja", max_nodes=1)
    assert not untranslated
    assert main(["explain", "--mode", "forward", "--expr", "x*x", "--set", "x=3"]) == 0
    assert "so dL/dx = 6" in capsys.readouterr().out
