"""Pictures of learning (matplotlib, the optional ``plots`` extra): loss and accuracy curves, the
decision boundary of a 2-D classifier, and (from flow_plots.py) gradient flow per layer.

Every ``plot_*`` function writes a PNG (or whatever the suffix says) atomically and returns the
path; the ``*_figure`` function behind it returns the matplotlib Figure, for notebooks and tests.
Without matplotlib each raises ``MissingExtraError`` whose message says what to install; it
never fails half-way with a traceback from deep inside.

What each picture must let a reader see at a glance:

    training curves     train AND test loss (overfitting shows as the two parting), and the
                        accuracies on an axis zoomed to where they are (0–100 % flattens 95 % vs 99 %)
    decision boundary   the regions, a smooth boundary (the 0-contour of each class's logit
                        margin, not a staircase of grid cells), train and test points told apart
                        by marker, and a legend naming the classes and the splits
"""

from __future__ import annotations

from ..autograd import no_grad
from ..backend import np
from ..locale import _
from ..tensor import Tensor
from .figures import (
    INSTALL,
    PALETTE,
    Line2D,
    MissingExtraError,
    Patch,
    available,
    new_figure,
    picture_language,
    save,
    ticker,
)
from .flow_plots import gradient_flow_figure, layer_norms_figure, plot_gradient_flow, plot_layer_norms

__all__ = ["INSTALL", "MissingExtraError", "available", "decision_boundary_figure", "gradient_flow_figure",
           "layer_norms_figure", "plot_decision_boundary", "plot_gradient_flow", "plot_layer_norms",
           "plot_training_curves", "predict_classes", "training_curves_figure"]

LOSS_COLORS = {"train": "#D55E00", "test": "#0072B2"}


def accuracy_limits(series: list, floor_gap: float = 0.02) -> tuple:
    """Axis limits zoomed onto the accuracies: from a little below the lowest to 100 %, at
    least ``floor_gap`` wide, never below 0."""
    values = np.asarray([v for values in series for v in values], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), max(float(values.max()), 1.0)
    pad = max((high - low) * 0.08, floor_gap / 2)
    return max(0.0, low - pad), high + pad / 4


def training_curves_figure(history: dict, title: str | None = None):
    """Left: train and test loss per epoch; right: train and test accuracy on a zoomed axis.
    ``history`` holds lists under "train_loss" (or "loss") and, when known, "test_loss",
    "train_accuracy", "test_accuracy" (fractions in [0, 1])."""
    figure, (loss_axes, accuracy_axes) = new_figure(11, 4.2, columns=2)
    figure.suptitle(_("Training") if title is None else title)
    split_words = {"train": _("train"), "test": _("test")}
    train_loss = history.get("train_loss", history.get("loss", []))
    for split, values in (("train", train_loss), ("test", history.get("test_loss", []))):
        if values:
            loss_axes.plot(np.arange(1, len(values) + 1), values, color=LOSS_COLORS[split], lw=1.8,
                           ls="-" if split == "train" else "--",
                           label=_("{split} loss (last {value:.3f})").format(split=split_words[split],
                                                                             value=values[-1]))
    loss_axes.set_xlabel(_("epoch"))
    loss_axes.set_ylabel(_("cross-entropy loss"))
    loss_axes.set_title(_("loss (train and test drifting apart = overfitting)"), fontsize=10)
    loss_axes.set_ylim(bottom=0)
    loss_axes.grid(True, alpha=0.3)
    if loss_axes.get_lines():
        loss_axes.legend(fontsize=8, loc="upper right")
    series = []
    for split in ("train", "test"):
        values = history.get(f"{split}_accuracy")
        if values:
            series.append(values)
            accuracy_axes.plot(np.arange(1, len(values) + 1), values, color=LOSS_COLORS[split], lw=1.8,
                               ls="-" if split == "train" else "--",
                               label=_("{split} accuracy (last {value:.1%})").format(
                                   split=split_words[split], value=values[-1]))
    low, high = accuracy_limits(series)
    accuracy_axes.set_ylim(low, high)
    accuracy_axes.yaxis.set_major_locator(ticker.MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
    accuracy_axes.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=0 if high - low > 0.08
                                                                    else 1))
    accuracy_axes.set_xlabel(_("epoch"))
    accuracy_axes.set_ylabel(_("accuracy"))
    zoomed = _(" (axis zoomed to {low:.0%}–100%)").format(low=low) if low > 0 else ""
    accuracy_axes.set_title(_("accuracy") + zoomed, fontsize=10)
    accuracy_axes.grid(True, alpha=0.3)
    if series:
        accuracy_axes.legend(fontsize=8, loc="lower right")
    return figure


def plot_training_curves(history: dict, path, title: str | None = None):
    """Save ``training_curves_figure`` to ``path``; returns the path."""
    with picture_language():
        return save(training_curves_figure(history, title), path)


def model_scores(model, points: np.ndarray) -> np.ndarray:
    """The model's outputs (logits) for ``points``, in eval mode and without a graph; a model that
    was training is put back in training mode."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            output = np.asarray(model(Tensor(points.astype(np.float32)))._data, dtype=float)
    finally:
        if was_training:
            model.train()
    return output.reshape(len(points), -1)


def predict_classes(model, points: np.ndarray) -> np.ndarray:
    """Class of every point: argmax of the model's outputs (or output > 0 for a single logit)."""
    scores = model_scores(model, points)
    return (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(1)


def _margins(scores: np.ndarray) -> np.ndarray:
    """Per class k: logit_k − max of the other logits (> 0 exactly where k wins). Smooth in the
    input, so its 0-contour is a smooth boundary. One logit s: the margins are (−s, s)."""
    if scores.shape[1] == 1:
        return np.column_stack([-scores[:, 0], scores[:, 0]])
    margins = np.empty_like(scores)
    for k in range(scores.shape[1]):
        margins[:, k] = scores[:, k] - np.delete(scores, k, axis=1).max(axis=1)
    return margins


def _points(X, y):
    X = np.asarray(X._data if isinstance(X, Tensor) else X, dtype=float)
    y = np.asarray(y._data if isinstance(y, Tensor) else y).astype(int).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points (N, 2), got shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: {len(X)} points but {len(y)} labels")
    return X, y


def decision_boundary_figure(model, X, y, title: str | None = None, resolution: int = 300,
                             X_test=None, y_test=None):
    """The regions the model assigns to each class over a grid covering the points, the boundary
    between them, and the points coloured by their true class: ``X``, ``y`` as filled circles
    (the training points) and ``X_test``, ``y_test``, when given, as white-edged triangles."""
    X, y = _points(X, y)
    splits = [("train points" if X_test is not None else "points", X, y, "o")]
    if X_test is not None:
        splits.append(("test points", *_points(X_test, y_test), "^"))
    split_words = {"train points": _("train points"), "points": _("points"), "test points": _("test points")}
    everything = np.concatenate([points for _, points, _, _ in splits])
    figure, (axes,) = new_figure(6.6, 5.4)
    low, high = everything.min(axis=0), everything.max(axis=0)
    margin = 0.1 * (high - low) + 1e-3
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    margins = _margins(model_scores(model, np.column_stack([grid_x.ravel(), grid_y.ravel()])))
    n_classes = max(margins.shape[1], int(max(label.max(initial=0) for _, _, label, _ in splits)) + 1)
    colors = [PALETTE[k % len(PALETTE)] for k in range(n_classes)]
    for k in range(margins.shape[1]):
        surface = margins[:, k].reshape(grid_x.shape)
        if surface.max() > 0:
            axes.contourf(grid_x, grid_y, surface, levels=[0, np.inf], colors=[colors[k]], alpha=0.18)
        if surface.min() < 0 < surface.max():
            axes.contour(grid_x, grid_y, surface, levels=[0], colors="#222222", linewidths=1.4)
    for split, points, labels, marker in splits:
        test = split == "test points"
        axes.scatter(points[:, 0], points[:, 1], c=[colors[label] for label in labels], marker=marker,
                     s=46 if test else 16, edgecolors="white" if test else "none", linewidths=0.9,
                     alpha=1.0 if test else 0.75, zorder=3 if test else 2)
    handles = [Patch(facecolor=colors[k], alpha=0.6, label=_("class {k}").format(
        k=k)) for k in range(n_classes)]
    handles += [Line2D([], [], ls="none", marker=marker, color="#555555", markeredgecolor="white",
                       markersize=8 if split == "test points" else 5,
                       label=f"{split_words[split]} ({len(points)})")
                for split, points, _labels, marker in splits]
    handles.append(Line2D([], [], color="#222222", lw=1.4, label=_("decision boundary")))
    axes.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    axes.set_xlim(xs[0], xs[-1])
    axes.set_ylim(ys[0], ys[-1])
    axes.set_title(_("Decision boundary") if title is None else title)
    axes.set_xlabel("x₁")
    axes.set_ylabel("x₂")
    return figure


def plot_decision_boundary(model, X, y, path, title: str | None = None, resolution: int = 300,
                           X_test=None, y_test=None):
    """Save ``decision_boundary_figure`` to ``path``; returns the path."""
    with picture_language():
        return save(decision_boundary_figure(model, X, y, title, resolution, X_test, y_test), path)
