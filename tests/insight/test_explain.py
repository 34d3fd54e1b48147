"""explain(): the lesson's worked example, number by number, in three notations."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.insight.explain import explain


def lesson_graph():
    w = cr.tensor(2.0, requires_grad=True, name="w")
    x = cr.tensor(3.0, name="x")
    y = cr.tensor(10.0, name="y")
    return w, (w * x - y) ** 2


def numbers_in(text: str) -> list:
    """Every number in the text, in order, with the typographic minus read as '-'."""
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text.replace("−", "-"))]


def appear_in_order(needles, haystack) -> bool:
    position = 0
    for needle in needles:
        try:
            position = haystack.index(needle, position) + 1
        except ValueError:
            return False
    return True


def test_lesson_example_text_has_every_number_in_the_lessons_order():
    _, L = lesson_graph()
    text = explain(L)
    # forward: 6, then 6 - 10 = -4, then (-4)^2 = 16; backward: -8, 1, -8, 3, -24
    assert appear_in_order([6, -4, 16, -8, 1, -8, 3, -24], numbers_in(text))
    for line in ["wx = w × x = 2 × 3 = 6", "diff = wx − y = 6 − 10 = −4", "L = diff² = (−4)² = 16",
                 "dL/d(diff) = 2 × diff = 2 × (−4) = −8", "dL/d(diff) = 1 × (−8) = −8",
                 "d(diff)/d(wx) = 1", "dL/d(wx) = dL/d(diff) × d(diff)/d(wx) = −8 × 1 = −8",
                 "d(wx)/dw = x = 3", "dL/dw = dL/d(wx) × d(wx)/dw = −8 × 3 = −24"]:
        assert line in text, line
    assert text.index("= 16") < text.index("= −8") < text.index("dw = x = 3") < text.index("= −24")


def test_markdown_and_latex_forms():
    _, L = lesson_graph()
    markdown = explain(L, style="markdown")
    assert "### Forward pass" in markdown and "### Backward pass" in markdown
    assert "- wx = w × x = 2 × 3 = 6" in markdown
    assert appear_in_order([6, -4, 16, -8, 3, -24], numbers_in(markdown))
    latex = explain(L, style="latex")
    assert latex.count("\\begin{align*}") == latex.count("\\end{align*}") == 3
    assert "\\mathrm{wx} &= w \\times x = 2 \\times 3 = 6 \\\\" in latex
    assert "\\left(-4\\right)^{2} = 16" in latex
    assert ("\\frac{dL}{d w} &= \\frac{dL}{d \\mathrm{wx}} \\times "
            "\\frac{\\partial \\mathrm{wx}}{\\partial w} = -8 \\times 3 = -24") in latex
    assert "−" not in latex and "×" not in latex


def test_explain_neither_consumes_the_graph_nor_touches_grad():
    w, L = lesson_graph()
    explain(L)
    explain(L, style="latex")
    assert w.grad is None
    L.backward()                 # the graph is still there
    assert w.grad.item() == -24.0


def test_freed_graph_and_leaf_give_clear_errors():
    w, L = lesson_graph()
    L.backward()
    with pytest.raises(cr.GraphError, match="retain_graph"):
        explain(L)
    with pytest.raises(cr.GraphError, match="requires_grad"):
        explain(cr.tensor(1.0) * 2)
    with pytest.raises(ValueError, match="style"):
        explain(lesson_graph()[1], style="html")


def test_gradients_agree_with_the_engine_for_reuse_and_broadcasting():
    a = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True, name="a")
    b = cr.tensor(0.3, dtype=cr.float64, requires_grad=True, name="b")
    h = a.sigmoid()
    z = (h * h + h.exp() * b + (a * b).tanh()).sum()
    text = explain(z)
    assert "used 3 times" in text
    ga, gb = cr.grad(z, [a, b], retain_graph=True)
    assert f"dL/db = {gb.item():.4g}".replace("-", "−") in text
    assert f"{ga.numpy()[0]:.4g}".replace("-", "−") in text.split("Gradients of the leaves")[1]


def test_scalar_function_derivatives_written_out():
    x = cr.tensor(0.5, requires_grad=True, name="x")
    text = explain(x.sigmoid())
    assert "L × (1 − L) = 0.6225 × (1 − 0.6225) = 0.235" in text
    assert "sigmoid × (1 − sigmoid)" in explain(x.sigmoid() * 1.0)
    text = explain((x * 2.0).exp().log())
    assert "2 × x" not in text and "exp" in text and "1 / exp" in text


def test_large_graph_is_summarised_by_op_counts():
    h = cr.randn(8, 4)
    weights = [cr.randn(4, 4, requires_grad=True) for _ in range(25)]
    for w in weights:
        h = (h @ w).tanh()
    text = explain(h.mean(), max_nodes=6)
    assert "The graph has 51 ops (matmul ×25, tanh ×25, mean ×1)" in text
    forward = text.split("Backward pass")[0]
    assert forward.count(" = tanh(") + forward.count(" @ ") <= 6
    assert "... and 5 more leaves" in text


def test_names_from_a_module_and_array_values_shown_compactly():
    W = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = cr.tensor(np.ones((4, 3)))
    text = explain((x @ W.T).relu().sum(), names={W: "W"})
    assert "[2×3: 0, 1, 2, …]" in text
    assert "dL/dW = [2×3: 4, 4, 4, …]" in text
