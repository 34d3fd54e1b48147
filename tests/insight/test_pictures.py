"""Graph drawing and plots: valid files when the extras exist, clear messages when they do not."""


import numpy as np
import pytest
from tests.conftest import needs_dot

import chainrule as cr
from chainrule import data, nn
from chainrule.insight import figures, flow_plots, graph, plots
from chainrule.insight.flow import GradientFlow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_matplotlib = pytest.mark.skipif(not plots.available(), reason="matplotlib not installed")
needs_graphviz = needs_dot


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
    monkeypatch.setattr(figures, "Figure", None)
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


# --- what the pictures show, read back from the matplotlib figures --------------------------------
def trained_flow(hidden_layers=7, steps=60):
    """A GradientFlow over ``steps`` noisy mini-batch steps of an MLP with hidden_layers + 1 Linear layers."""
    cr.manual_seed(0)
    widths = [2] + [8] * hidden_layers + [2]
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers += [nn.Linear(a, b)] + ([nn.Tanh()] if i < len(widths) - 2 else [])
    model = nn.Sequential(*layers)
    X, y = data.make_moons(256, noise=0.2, seed=0)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=8, shuffle=True, seed=0)
    optimizer = cr.optim.SGD(model.parameters(), lr=0.05)
    flow = GradientFlow(model)
    batches = [batch for _ in range(steps // len(loader) + 1) for batch in loader][:steps]
    for xb, yb in batches:
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(xb), yb).backward()
        optimizer.step()
    return flow


def decades(axes):
    low, high = axes.get_ylim()
    return np.log10(high / low)


def major_ticks_inside(axes):
    low, high = axes.get_ylim()
    return [t for t in axes.get_yticks() if low <= t <= high]


@needs_matplotlib
def test_gradient_flow_picture_smooths_a_few_layers_named_as_the_model_names_them():
    flow = trained_flow()
    labels = flow.history()["layers"]
    assert len(labels) == 8 and labels[0] == "0 (Linear)" and labels[-1] == "14 (Linear)"
    figure = flow_plots.gradient_flow_figure(flow)
    over_time, per_layer = figure.axes[:2]
    legend = [t.get_text() for t in over_time.get_legend().get_texts()]
    assert len(legend) == 5 and legend[0] == labels[0] and legend[-1] == labels[-1]     # ends included
    assert set(legend) <= set(labels)
    lines = over_time.get_lines()
    assert len(lines) == 2 * len(legend)            # per chosen layer: a faint raw trace and a bold median
    faint, bold = lines[0::2], lines[1::2]
    assert all(line.get_alpha() < 0.3 for line in faint) and all(line.get_linewidth() >= 2 for line in bold)
    raw = np.asarray(faint[0].get_ydata(), dtype=float)
    smooth = np.asarray(bold[0].get_ydata(), dtype=float)
    assert np.nanstd(np.diff(np.log(smooth))) < np.nanstd(np.diff(np.log(raw)))   # smoothed really is
    # the right panel: every layer, under the same names as the legend
    assert [t.get_text() for t in per_layer.get_xticklabels()] == labels
    assert per_layer.get_ylim() == over_time.get_ylim()    # one shared log axis for both panels


@needs_matplotlib
def test_log_axes_show_at_least_three_decades_with_a_tick_at_each():
    # a healthy net: per-layer medians within 3× of each other
    history = {"layers": ["0 (Linear)", "2 (Linear)", "4 (Linear)"],
               "grad_norms": np.array([[0.2, 0.14, 0.07]] * 50)}
    figure = flow_plots.gradient_flow_figure(history)
    per_layer = figure.axes[1]
    assert per_layer.get_yscale() == "log" and decades(per_layer) >= 3 - 1e-9
    assert len(major_ticks_inside(per_layer)) >= 3
    figure = flow_plots.layer_norms_figure({"a": [1e-17, 1e-9, 1e-3], "b": [0.1, 0.2, 0.3]})
    axes = figure.axes[0]
    assert decades(axes) >= 16 and len(major_ticks_inside(axes)) >= 5


@needs_matplotlib
def test_coinciding_curves_are_told_apart_and_explained():
    norms = {"sigmoid": [1e-17, 1e-9, 1e-3], "relu": [0.1, 0.2, 0.3], "sigmoid+clipped": [1e-17, 1e-9, 1e-3]}
    assert flow_plots.coinciding(norms) == {"sigmoid+clipped": "sigmoid"}
    figure = flow_plots.layer_norms_figure(norms, reasons={"sigmoid+clipped": "clipping never acted"},
                                           flags={"sigmoid": "vanishing", "relu": "healthy"})
    axes = figure.axes[0]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["sigmoid: vanishing", "relu: healthy", "sigmoid+clipped (= sigmoid, dashed)"]
    sigmoid, _, clipped = axes.get_lines()
    assert sigmoid.get_linestyle() != clipped.get_linestyle() and sigmoid.get_marker() != clipped.get_marker()
    assert clipped.get_markerfacecolor() == "none"           # hollow: the curve under it shows through
    assert "sigmoid+clipped lies exactly on sigmoid: clipping never acted." in figure._supxlabel.get_text()


@needs_matplotlib
def test_training_curves_show_test_loss_and_a_zoomed_accuracy_axis():
    history = {"train_loss": [0.6, 0.3, 0.1], "test_loss": [0.62, 0.35, 0.2],
               "train_accuracy": [0.81, 0.95, 0.97], "test_accuracy": [0.82, 0.93, 0.99]}
    figure = plots.training_curves_figure(history)
    loss_axes, accuracy_axes = figure.axes[:2]
    legend = [t.get_text().split(" (")[0] for t in loss_axes.get_legend().get_texts()]
    assert legend == ["train loss", "test loss"]
    assert [len(line.get_ydata()) for line in loss_axes.get_lines()] == [3, 3]
    low, high = accuracy_axes.get_ylim()
    assert 0.7 < low < 0.81 and 1.0 <= high < 1.02          # zoomed onto 81–99 %, 100 % still on the axis
    assert "zoomed" in accuracy_axes.get_title()
    assert plots.accuracy_limits([[0.1, 0.5]])[0] == pytest.approx(0.0, abs=0.1)   # wide range: no zoom trick
    # the old key "loss" is still read as the training loss
    legacy = plots.training_curves_figure({"loss": [1.0, 0.5]})
    assert [t.get_text() for t in legacy.axes[0].get_legend().get_texts()] == ["train loss (last 0.500)"]


@needs_matplotlib
def test_decision_boundary_tells_train_from_test_and_names_the_classes():
    from matplotlib.contour import ContourSet

    model = small_model()
    X, y = data.make_moons(40, noise=0.1, seed=0)
    X_test, y_test = data.make_moons(12, noise=0.1, seed=1)
    figure = plots.decision_boundary_figure(model, X, y, X_test=X_test, y_test=y_test, resolution=120)
    axes = figure.axes[0]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["class 0", "class 1", "train points (40)", "test points (12)", "decision boundary"]
    scatters = [c for c in axes.collections if not isinstance(c, ContourSet)]
    assert [len(c.get_offsets()) for c in scatters] == [40, 12]
    train_marker, test_marker = (c.get_paths()[0].vertices.shape for c in scatters)
    assert train_marker != test_marker                          # circle vs triangle
    assert any(isinstance(c, ContourSet) and list(c.levels) == [0] for c in axes.collections)  # smooth edge
    import inspect
    assert inspect.signature(plots.plot_decision_boundary).parameters["resolution"].default >= 300
    three = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))      # three classes, no test split
    y3 = cr.tensor(np.arange(40) % 3)
    figure = plots.decision_boundary_figure(three, X, y3, resolution=60)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["class 0", "class 1", "class 2", "points (40)", "decision boundary"]


def test_graph_labels_say_each_op_once_and_show_the_target():
    model = small_model()
    X, y = data.make_moons(4, seed=0)
    names = {X: "x", y: "y"} | {p: n for n, p in model.named_parameters()}
    dot = graph.to_dot(nn.CrossEntropyLoss()(model(X), y), names=names)
    assert "linear\\nlinear" not in dot and "relu\\nrelu" not in dot
    assert 'label="linear\\n[4×8:' in dot and 'label="linear_2\\n[4×2:' in dot
    assert 'label="target y\\n[4: ' in dot and "(data: no gradient)" in dot
    assert "-> op3 [style=dashed];" in dot
