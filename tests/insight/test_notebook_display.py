"""What a notebook shows: explain as Markdown with LaTeX, graphs as SVG, gradient flow as a PNG
with its diagnosis, modules as a parameter table, tensors with a header; text views unchanged."""

import pickle
import re

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.insight import Explanation, GradientFlow, explain
from chainrule.insight import graph as graph_module


def lesson_loss():
    w = cr.tensor(2.0, requires_grad=True, name="w")
    x = cr.tensor(3.0, name="x")
    y = cr.tensor(10.0, name="y")
    return w, (w * x - y) ** 2


def formats(obj) -> dict:
    """The MIME bundle IPython would send to the notebook for ``obj``."""
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _metadata = formatters.DisplayFormatter().format(obj)
    return data


# --- explain ---------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["text", "markdown", "latex"])
def test_explain_is_still_the_same_text(style):
    _, L = lesson_loss()
    explanation = explain(L, style=style)
    assert isinstance(explanation, str) and isinstance(explanation, Explanation)
    _, again = lesson_loss()
    text = str(explain(again, style=style))
    assert explanation == text and str(explanation) == text and type(str(explanation)) is str
    assert "−24" in text or "-24" in text


def test_explain_shows_typeset_markdown_in_a_notebook():
    _, L = lesson_loss()
    markdown = explain(L)._repr_markdown_()
    assert "### Forward pass (input to output)" in markdown and "### Gradients of the leaves" in markdown
    assert "$\\mathrm{wx} = w \\times x = 2 \\times 3 = 6$" in markdown
    assert ("$\\frac{dL}{d w} = \\frac{dL}{d \\mathrm{wx}} \\times "
            "\\frac{\\partial \\mathrm{wx}}{\\partial w} = -8 \\times 3 = -24$") in markdown
    assert markdown.count("$") % 2 == 0
    for line in markdown.splitlines():        # every formula is inside dollars: no stray LaTeX
        outside = re.sub(r"\$[^$]*\$", "", line)
        assert "\\frac" not in outside and "\\mathrm" not in outside, line
    data = formats(explain(lesson_loss()[1]))
    assert data["text/markdown"] == markdown
    assert data["text/plain"].startswith("Forward pass")       # not a quoted string


def test_explain_paths_meet_in_the_notebook_form():
    x = cr.tensor(3.0, requires_grad=True, name="x")
    markdown = explain(x * x + x)._repr_markdown_()
    assert "$\\frac{dL}{d x} = 1 + 3 + 3 = 7$" in markdown
    assert "\\left.\\frac{dL}{d x}\\right|_{\\text{path 2 of 3}}" in markdown


def test_explanation_pickles_and_prints_as_text(capsys):
    _, L = lesson_loss()
    explanation = explain(L)
    print(explanation, end="")
    assert capsys.readouterr().out == str(explanation)
    copy = pickle.loads(pickle.dumps(explanation))
    assert copy == explanation and copy.notebook == explanation.notebook


def test_japanese_notebook_form():
    _, L = lesson_loss()
    markdown = explain(L, lang="ja")._repr_markdown_()
    assert "順伝播" in markdown and "\\frac{dL}{d w}" in markdown


# --- graphs ----------------------------------------------------------------------------------
def test_draw_graph_without_a_path_writes_nothing_and_shows_svg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, L = lesson_loss()
    drawing = graph_module.draw_graph(L)
    assert drawing.path is None and list(tmp_path.iterdir()) == []
    if graph_module.graphviz is None or graph_module.dot_program() is None:
        pytest.skip("Graphviz (the Python package and its dot program) is needed to draw")
    assert drawing.rendered
    bundle = drawing._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE")) and "<svg" in svg
    assert "wx" in svg and "diff" in svg and "grad −24" in svg


def test_a_value_used_twice_by_one_op_gets_one_arrow_marked_twice():
    x = cr.tensor(3.0, requires_grad=True, name="x")
    dot = graph_module.to_dot(x * x + x)
    assert 'leaf0 -> op0 [label="×2"];' in dot and "leaf0 -> op1;" in dot and dot.count("->") == 3


def test_a_graph_without_graphviz_shows_what_to_install(monkeypatch):
    monkeypatch.setattr(graph_module, "graphviz", None)
    _, L = lesson_loss()
    drawing = graph_module.draw_graph(L)
    assert not drawing.rendered
    bundle = drawing._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    text = bundle["text/plain"]
    assert "pip install chainrule[graph]" in text and "digraph computation" in text


def test_a_graph_drawn_to_a_file_also_shows_inline(tmp_path):
    if graph_module.graphviz is None or graph_module.dot_program() is None:
        pytest.skip("Graphviz is needed to draw")
    _, L = lesson_loss()
    drawing = graph_module.draw_graph(L, tmp_path / "g.png")
    assert drawing.path.exists()
    assert "image/svg+xml" in drawing._repr_mimebundle_()


# --- gradient flow ---------------------------------------------------------------------------
def deep_sigmoid_flow(steps=4):
    cr.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    flow = GradientFlow(model)
    x, y = cr.randn(64, 16), cr.randn(64, 1)
    for _ in range(steps):
        model.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
    return flow


def test_gradient_flow_shows_its_picture_and_its_diagnosis():
    pytest.importorskip("matplotlib")
    html = deep_sigmoid_flow()._repr_html_()
    assert re.search(r'<img src="data:image/png;base64,iVBORw0KGgo[A-Za-z0-9+/=]{1000,}"', html)
    assert "VANISHING" in html and "Remedies from the lesson" in html and "ReLU" in html
    assert "<table" in html and "grad norm" in html and "0 (Linear)" in html
    assert "text/html" in formats(deep_sigmoid_flow(1))


def test_gradient_flow_before_any_backward_and_the_report_alone():
    model = nn.Sequential(nn.Linear(2, 2))
    flow = GradientFlow(model)
    html = flow._repr_html_()
    assert "<img" not in html and "no gradients recorded yet" in html
    report_html = deep_sigmoid_flow(2).report()._repr_html_()
    assert "<img" not in report_html and "VANISHING" in report_html


def test_gradient_flow_without_matplotlib_still_diagnoses(monkeypatch):
    from chainrule.insight import figures
    monkeypatch.setattr(figures, "Figure", None)
    html = deep_sigmoid_flow(2)._repr_html_()
    assert "<img" not in html and "pip install chainrule[plots]" in html and "VANISHING" in html


def test_gradient_flow_in_japanese():
    pytest.importorskip("matplotlib")
    html = deep_sigmoid_flow(2)._repr_html_(lang="ja")
    assert "勾配消失" in html or "消失" in html


# --- modules and tensors ---------------------------------------------------------------------
def test_module_shows_its_parameter_table():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model[2].bias.requires_grad_(False)
    before = repr(model)
    html = model._repr_html_()
    assert repr(model) == before
    assert "Sequential: 13 parameters (12 trainable) in 4 tensors" in html
    right_aligned = "<td style=\"padding:2px 10px;text-align:right;border-bottom:1px solid #ddd\">"
    for cell in ["0.weight", "3×2", right_aligned + "6</td>", "2.bias", "False", "total", "<details>",
                 "Linear(in_features=2, out_features=3, bias=True)"]:
        assert cell in html, cell
    assert formats(model)["text/html"] == html


def test_module_table_in_japanese_and_without_parameters():
    from chainrule.locale import language
    with language("ja"):
        html = nn.Linear(4, 2)._repr_html_()
    assert "パラメータ" in html and "10" in html
    assert "(no parameters)" in nn.ReLU()._repr_html_()


def test_tensor_html_has_a_header_and_repr_is_unchanged():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="w")
    text = repr(t)
    (t * t).sum().backward()
    html = t._repr_html_()
    assert repr(t) == text
    assert "shape 2×2" in html and "float32" in html and "requires_grad=True" in html and "name w" in html
    assert "grad: norm" in html and "tensor([[1., 2.]," in html
    made = t * 2
    assert "grad_fn=MulBackward" in made._repr_html_() and "&lt;MulBackward&gt;" in made._repr_html_()
    assert "shape scalar" in cr.tensor(1.5)._repr_html_()
    assert "<b>Parameter</b>" in nn.Linear(1, 1).weight._repr_html_()
