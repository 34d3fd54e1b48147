"""Pictures of learning (matplotlib, the optional ``plots`` extra): gradient flow per layer over
time, loss/accuracy curves, and the decision boundary of a 2-D classifier.

Every function draws on its own ``Figure`` with the Agg canvas (no window, no global pyplot
state, the user's backend untouched), writes a PNG (or whatever the suffix says) and returns
the path. Without matplotlib each raises ``MissingExtraError`` whose message says what to
install; it never fails half-way with a traceback from deep inside.
"""

from __future__ import annotations

from pathlib import Path

from ..autograd import no_grad
from ..backend import np
from ..errors import ChainruleError
from ..tensor import Tensor

try:  # optional extra: pip install chainrule[plots]
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    Figure = FigureCanvasAgg = colormaps = None

INSTALL = "pip install chainrule[plots]"


class MissingExtraError(ChainruleError, ImportError):
    """An optional dependency (an "extra") is not installed; the message says how to get it."""


def available() -> bool:
    return Figure is not None


def _figure(width: float, height: float, columns: int = 1):
    if Figure is None:
        raise MissingExtraError(f"matplotlib is not installed, so no plot was drawn: {INSTALL}")
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False)[0]


def _save(figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def _depth_colors(count: int):
    """Dark for the layers near the input, bright near the output."""
    colormap = colormaps["viridis"]
    return [colormap(v) for v in np.linspace(0.05, 0.95, max(count, 1))]


def plot_gradient_flow(flow, path, title: str = "Gradient flow") -> Path:
    """Left: each layer's gradient norm ‖dL/dW‖ over the steps (log scale, dark = near the input).
    Right: the median norm per layer from input to output, where vanishing (a slope falling toward
    the input) and exploding (rising toward it) show at a glance.

    ``flow``: a ``GradientFlow`` or its ``history()`` dict."""
    history = flow.history() if hasattr(flow, "history") else flow
    labels, norms = history["layers"], np.asarray(history["grad_norms"], dtype=float)
    figure, (over_time, per_layer) = _figure(11, 4.2, columns=2)
    figure.suptitle(title)
    colors = _depth_colors(len(labels))
    positive = np.where(norms > 0, norms, np.nan)
    for j, label in enumerate(labels):
        if np.isfinite(positive[:, j]).any():
            over_time.plot(np.arange(1, len(norms) + 1), positive[:, j], color=colors[j], lw=1.2,
                           label=label if len(labels) <= 8 or j in (0, len(labels) - 1) else None)
    over_time.set_yscale("log")
    over_time.set_xlabel("step")
    over_time.set_ylabel("gradient norm ‖dL/dW‖")
    over_time.set_title("per layer, over training")
    if labels:
        over_time.legend(fontsize=7, loc="best")
    with np.errstate(all="ignore"):
        medians = np.array([np.nanmedian(positive[:, j]) if np.isfinite(positive[:, j]).any() else np.nan
                            for j in range(len(labels))])
    per_layer.plot(np.arange(len(labels)), medians, marker="o", color="#0d6efd")
    per_layer.set_yscale("log")
    per_layer.set_xticks(np.arange(len(labels)))
    per_layer.set_xticklabels([str(i) for i in range(len(labels))])
    per_layer.set_xlabel("layer (0 = input side)")
    per_layer.set_ylabel("median gradient norm")
    per_layer.set_title("input → output")
    return _save(figure, path)


def plot_layer_norms(norms_by_variant: dict, path, title: str = "Gradient norm per layer") -> Path:
    """One line per variant (e.g. sigmoid, ReLU, residual...): median gradient norm of each layer,
    input side on the left, log scale: the lesson's experiment in one picture."""
    figure, (axes,) = _figure(8, 4.5)
    for variant, norms in norms_by_variant.items():
        values = np.array([np.nan if n is None or n <= 0 else n for n in norms], dtype=float)
        axes.plot(np.arange(len(values)), values, marker="o", ms=3, label=variant)
    axes.set_yscale("log")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("layer (0 = input side)")
    axes.set_ylabel("median gradient norm ‖dL/dW‖")
    axes.set_title(title)
    axes.legend(fontsize=8)
    return _save(figure, path)


def plot_training_curves(history: dict, path, title: str = "Training") -> Path:
    """Loss (left) and accuracy (right) per epoch. ``history`` holds lists under "loss" and,
    when known, "train_accuracy" / "test_accuracy" (fractions in [0, 1])."""
    figure, (loss_axes, accuracy_axes) = _figure(10, 4, columns=2)
    figure.suptitle(title)
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    loss_axes.plot(epochs, history.get("loss", []), color="#dc3545")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss")
    loss_axes.set_title("loss")
    for key, color in (("train_accuracy", "#0d6efd"), ("test_accuracy", "#198754")):
        values = history.get(key)
        if values:
            accuracy_axes.plot(np.arange(1, len(values) + 1), values, color=color,
                               label=key.replace("_", " "))
    accuracy_axes.set_ylim(0, 1.02)
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.set_ylabel("accuracy")
    accuracy_axes.set_title("accuracy")
    if history.get("train_accuracy") or history.get("test_accuracy"):
        accuracy_axes.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def predict_classes(model, points: np.ndarray) -> np.ndarray:
    """Class of every point: argmax of the model's outputs (or output > 0 for a single logit)."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            output = model(Tensor(points.astype(np.float32)))._data
    finally:
        if was_training:
            model.train()
    return (output[:, 0] > 0).astype(int) if output.ndim == 1 or output.shape[1] == 1 else output.argmax(1)


def plot_decision_boundary(model, X, y, path, title: str = "Decision boundary",
                           resolution: int = 200) -> Path:
    """The regions the model assigns to each class, over a grid covering the 2-D points ``X``,
    with the points on top, coloured by their true class ``y``."""
    X = np.asarray(X._data if isinstance(X, Tensor) else X, dtype=float)
    y = np.asarray(y._data if isinstance(y, Tensor) else y).astype(int)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points (N, 2), got shape {X.shape}")
    figure, (axes,) = _figure(5.5, 5)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low) + 1e-3
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    classes = predict_classes(model, np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    n_classes = int(max(classes.max(initial=0), y.max(initial=0))) + 1
    levels = np.arange(n_classes + 1) - 0.5
    axes.contourf(grid_x, grid_y, classes.reshape(grid_x.shape), levels=levels, cmap="coolwarm", alpha=0.35)
    axes.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", vmin=0, vmax=max(n_classes - 1, 1), s=12,
                 edgecolors="k", linewidths=0.3)
    axes.set_title(title)
    axes.set_xlabel("x₁")
    axes.set_ylabel("x₂")
    return _save(figure, path)
