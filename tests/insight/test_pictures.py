"""Graph drawing and plots: valid files when the extras exist, clear messages when they do not."""

import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn
from chainrule.insight import graph, plots
from chainrule.insight.flow import GradientFlow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_matplotlib = pytest.mark.skipif(not plots.available(), reason="matplotlib not installed")
needs_graphviz = pytest.mark.skipif(graph.graphviz is None or shutil.which("dot") is None,
                                    reason="graphviz package or dot program not installed")


def lesson_loss():
    w = cr.tensor(2.0, requires_grad=True, name="w")
    return w, (w * cr.tensor(3.0, name="x") - cr.tensor(10.0, name="y")) ** 2


def small_model():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_dot_text_holds_ops_leaves_values_and_gradients():
    w, loss = lesson_loss()
    dot = graph.to_dot(loss)
    assert dot.startswith("digraph computation {") and dot.rstrip().endswith("}")
    assert 'label="w\\n2\\ngrad −24"' in dot
    assert 'label="mul\\nwx = 6\\ngrad −8"' in dot
    assert 'label="pow\\nL = 16\\ngrad 1"' in dot
    assert dot.count("->") == 5          # w, x -> mul; mul, y -> sub; sub -> pow
    assert w.grad is None                 # gradients computed without touching .grad
    loss.backward()


def test_dot_of_a_model_names_parameters_and_shows_shapes():
    model = small_model()
    X, y = data.make_moons(4, seed=0)
    dot = graph.to_dot(nn.CrossEntropyLoss()(model(X), y), names=model)
    assert "0.weight\\n[8×2:" in dot and "cross_entropy" in dot and "linear_2" in dot


@needs_graphviz
def test_svg_and_png_are_valid_images(tmp_path):
    _, loss = lesson_loss()
    svg = graph.draw_graph(loss, tmp_path / "graph.svg")
    assert svg.rendered and svg.path.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "<svg" in svg.path.read_text()
    png = graph.draw_graph(loss, tmp_path / "graph.png")
    assert png.path.read_bytes()[:8] == PNG_SIGNATURE


def test_missing_graphviz_package_or_dot_gives_dot_text_and_what_to_install(tmp_path, monkeypatch):
    _, loss = lesson_loss()
    monkeypatch.setattr(graph, "graphviz", None)
    drawing = graph.draw_graph(loss, tmp_path / "g.svg")
    assert not drawing.rendered and drawing.path.suffix == ".dot"
    assert drawing.path.read_text() == drawing.dot
    assert "pip install chainrule[graph]" in drawing.message and "\n" not in drawing.message
    monkeypatch.setattr(graph, "graphviz", object())
    monkeypatch.setattr(graph, "dot_program", lambda: None)
    drawing = graph.draw_graph(loss, tmp_path / "h.png")
    assert "apt-get install graphviz" in drawing.message and drawing.path.exists()


def read_png(path):
    image = pytest.importorskip("matplotlib.image").imread(str(path))
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return image


@needs_matplotlib
def test_plots_are_valid_png_files(tmp_path):
    model = small_model()
    X, y = data.make_moons(64, noise=0.1, seed=0)
    flow = GradientFlow(model)
    for _ in range(3):
        model.zero_grad()
        nn.CrossEntropyLoss()(model(X), y).backward()
    image = read_png(plots.plot_gradient_flow(flow, tmp_path / "flow.png"))
    assert image.ndim == 3 and image.shape[0] > 100
    read_png(plots.plot_training_curves({"loss": [1.0, 0.5, 0.2], "train_accuracy": [0.5, 0.8, 0.9],
                                         "test_accuracy": [0.5, 0.7, 0.85]}, tmp_path / "curves.png"))
    boundary = read_png(plots.plot_decision_boundary(model, X, y, tmp_path / "boundary.png", resolution=50))
    assert boundary.std() > 0.01                      # not a blank canvas
    read_png(plots.plot_layer_norms({"sigmoid": [1e-9, 1e-5, 1e-2], "relu": [0.1, 0.2, 0.1]},
                                    tmp_path / "layers.png"))
    assert model.training                             # the boundary plot restored train mode


def test_missing_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "Figure", None)
    assert not plots.available()
    with pytest.raises(plots.MissingExtraError, match=r"pip install chainrule\[plots\]") as info:
        plots.plot_training_curves({"loss": [1.0]}, tmp_path / "x.png")
    assert isinstance(info.value, ImportError) and "\n" not in str(info.value)
    assert not (tmp_path / "x.png").exists()


def test_decision_boundary_refuses_points_that_are_not_2d(tmp_path):
    if not plots.available():
        pytest.skip("matplotlib not installed")
    with pytest.raises(ValueError, match="2-D points"):
        plots.plot_decision_boundary(small_model(), np.zeros((4, 3)), np.zeros(4), tmp_path / "b.png")
