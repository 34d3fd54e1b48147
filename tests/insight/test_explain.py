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
                 "∂L/∂(diff) = 2 × diff = 2 × (−4) = −8", "dL/d(diff) = 1 × (−8) = −8",
                 "∂(diff)/∂(wx) = 1", "dL/d(wx) = dL/d(diff) × ∂(diff)/∂(wx) = −8 × 1 = −8",
                 "∂(wx)/∂w = x = 3", "dL/dw = dL/d(wx) × ∂(wx)/∂w = −8 × 3 = −24", "dL/dw = −24"]:
        assert line in text, line
    assert text.index("= 16") < text.index("= −8") < text.index("∂w = x = 3") < text.index("= −24")
    assert "warning" not in text


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
    assert re.search(rf"^  dL/db = .* = {gb.item():.4g}$".replace("-", "−"), text, re.M)
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


# --- where paths meet: the multivariable chain rule written as a sum -----------------------------
def reuse_graph():
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True, name="x")
    return x, x * x + x


def test_paths_of_a_reused_value_are_labelled_and_summed():
    x, L = reuse_graph()
    text = explain(L)
    assert "dL/dx [path 1 of 3] = 1 × 1 = 1" in text
    assert "dL/dx [path 2 of 3] = dL/d(xx) × ∂(xx)/∂x [operand 1] = 1 × 3 = 3" in text
    assert "dL/dx [path 3 of 3] = dL/d(xx) × ∂(xx)/∂x [operand 2] = 1 × 3 = 3" in text
    leaves = text.split("Gradients of the leaves")[1]
    assert "x reaches L along 3 paths" in leaves and "multivariable chain rule" in leaves
    assert "dL/dx = 1 + 3 + 3 = 7" in leaves
    (engine,) = cr.grad(L, [x])
    assert engine.item() == 7.0


def test_the_sum_is_written_in_every_style():
    _, L = reuse_graph()
    assert "- dL/dx = 1 + 3 + 3 = 7" in explain(L, style="markdown")
    latex = explain(L, style="latex")
    assert "\\frac{dL}{d x} &= 1 + 3 + 3 = 7 \\\\" in latex
    assert "\\left.\\frac{dL}{d x}\\right|_{\\text{path 2 of 3}}" in latex
    assert "\\intertext{$x$ reaches $L$ along 3 paths" in latex


def test_a_reused_intermediate_value_sums_its_paths_at_its_node():
    x = cr.tensor(0.5, dtype=cr.float64, requires_grad=True, name="x")
    h = x.exp()
    text = explain(h * h + h)          # h is used three times: dL/dh = h + h + 1 = 2e^0.5 + 1
    value = 2 * np.exp(0.5) + 1
    assert "(exp) is used 3 times" in text.replace("exp is used", "(exp) is used")
    assert f"upstream dL/d(exp) = 1 + 1.649 + 1.649 = {value:.4g}" in text


@pytest.mark.parametrize("style", ["text", "markdown", "latex"])
def test_one_notation_local_partials_and_total_derivatives(style):
    """Every 'local' line is a ∂ (partial) derivative, every 'upstream'/'product' line a d (total)
    one, in every style: the two never share a symbol."""
    _, L = reuse_graph()
    w, lesson = lesson_graph()
    for text in (explain(L, style=style), explain(lesson, style=style)):
        lines = [line.strip().lstrip("- ") for line in text.splitlines()]
        if style == "latex":
            local = [line for line in lines if line.endswith("% local")]
            total = [line for line in lines if line.endswith(("% product", "% upstream"))]
            assert local and all("\\partial" in line.split("&=")[0] for line in local)
            assert total and all("\\partial" not in line.split("&=")[0] and "\\frac{dL}" in line
                                 for line in total)
        else:
            local = [line for line in lines if line.startswith("local")]
            total = [line for line in lines if line.startswith(("product", "upstream"))]
            assert local and all(line.split()[1].startswith("∂") for line in local)
            assert total and all(line.split()[1].startswith("dL/d") and "∂" not in line.split(" = ")[0]
                                 for line in total)
        assert "∂ marks a local derivative" in text or "$\\partial$ marks a local derivative" in text


# --- values outside a function's domain, NaN and Inf: flagged where they first appear -------------
def scalar(value, name="x"):
    return cr.tensor(value, dtype=cr.float64, requires_grad=True, name=name)


def forward_part(text):
    return text.split("Backward pass")[0]


@pytest.mark.parametrize("make, words", [
    (lambda: scalar(-1.0).log(), ["log is defined only for x > 0, but x = −1, so the result is nan"]),
    (lambda: scalar(0.0).log(), ["log is defined only for x > 0, but x = 0, so the result is −inf"]),
    (lambda: scalar(-4.0).sqrt(), ["square root is defined only for x ≥ 0, but x = −4"]),
    (lambda: scalar(1.0) / scalar(0.0, "y"), ["division by zero: y = 0, so the result is inf"]),
    (lambda: scalar(-4.0) ** 0.5, ["a negative base to a fractional power is not a real number", "x = −4"]),
    (lambda: scalar(0.0) ** -1.0, ["0 to a negative power divides by zero", "x = 0"]),
    (lambda: scalar(-8.0) ** scalar(1.5, "p"), ["a negative base to a fractional power"]),
    (lambda: scalar(1000.0).exp(), ["exp overflowed", "inf"]),
    (lambda: scalar(-2.0).log1p(), ["log1p is defined only for x > −1, but x = −2"]),
])
def test_domain_errors_are_flagged_at_the_node_where_they_happen(make, words):
    with np.errstate(all="ignore"):          # the engine's forward: NumPy's own warning is not the point
        text = explain(make())
    forward = forward_part(text)
    for word in words:
        assert word in forward, (word, forward)
    assert forward.count("⚠ warning: at L:") == 1
    assert "⚠ warning: these gradients come from a point where the computation left the real numbers" in text


def test_only_the_first_node_is_blamed_and_the_output_says_where_it_went_wrong():
    with np.errstate(all="ignore"):
        text = explain(scalar(-1.0).log() * 2.0 + 1.0)
    forward = forward_part(text)
    assert forward.count("⚠ warning: at") == 1 and "⚠ warning: at log: log is defined only" in forward
    assert "L is nan, not a real number (it first went wrong at log)" in forward
    backward = text.split("Backward pass")[1].split("Gradients of the leaves")[0]
    assert backward.count("⚠") == 1 and "log is not a real number (see the forward pass)" in backward


def test_a_gradient_that_alone_goes_infinite_is_flagged_in_the_backward_pass():
    text = explain(scalar(0.0).sqrt())     # sqrt(0) = 0 is fine; its slope is not
    assert "⚠" not in forward_part(text)
    assert "the local derivative is inf at this point: the square root has a vertical tangent at 0" in text
    assert "⚠ warning: dL/dx is inf" in text


def test_nan_input_and_kinks_are_said():
    text = explain(scalar(float("nan")) * 2.0)
    assert "⚠ warning: the input x holds nan" in text
    text = explain(scalar(0.0).relu() + scalar(0.0, "y").abs())
    assert "relu has no derivative at exactly 0" in text and "abs has no derivative at exactly 0" in text
    assert "⚠" not in text


def test_warnings_in_markdown_and_latex():
    with np.errstate(all="ignore"):
        L = scalar(-1.0).log()
    markdown = explain(L, style="markdown")
    assert "- **⚠ warning:** at L: log is defined only for x > 0" in markdown
    latex = explain(L, style="latex")
    assert ("\\intertext{\\textbf{Warning:} at $L$: $\\mathrm{log}$ is defined only for $x > 0$, "
            "but $x = -1$") in latex
    assert "−" not in latex and "⚠" not in latex


def test_explain_emits_no_numpy_warnings_on_bad_values():
    import warnings

    with np.errstate(all="ignore"):
        L = (scalar(0.0) / scalar(0.0, "y")).sqrt() + scalar(0.0, "z").log()
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a RuntimeWarning from NumPy would fail here
        assert "⚠" in explain(L)


def test_cross_entropy_target_is_written_with_its_name():
    logits = cr.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
    target = cr.tensor([1, 0])
    text = explain(cr.nn.functional.cross_entropy(logits, target), names={logits: "z", target: "y"})
    assert "L = cross_entropy(z, y)" in text
