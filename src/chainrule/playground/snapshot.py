"""What the page sees: a session turned into plain JSON.

Heat maps travel as base64 of one byte per cell (-1 → 0, 0 → 128, +1 → 255), row 0 at the top,
so a 40×40 map is 2 KB rather than a list of 1,600 numbers. Hidden neurons' maps are scaled by
their own largest |value| when that exceeds 1 (a ReLU's output is unbounded); ``scales`` says by
how much.
"""

from __future__ import annotations

import base64

import numpy as np

import chainrule as cr

from . import network as N
from .datasets import FEATURE_LABELS, features, grid
from .diagnostics import diagnose
from .session import Session, _thin

OUTPUT_RESOLUTION = 40
NEURON_RESOLUTION = 20
CURVE_POINTS = 200


def encode_map(values: np.ndarray) -> str:
    """Values in [-1, 1] → base64 bytes."""
    cells = np.round((np.clip(values, -1, 1) + 1) * 127.5).astype(np.uint8)
    return base64.b64encode(cells.tobytes()).decode("ascii")


def _round(array, digits=5):
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def _finite(value):
    return value if value is None or np.isfinite(value) else None


def _heatmaps(session: Session) -> dict:
    points = grid(OUTPUT_RESOLUTION)
    inputs = features(points, session.settings["features"])
    session.model.eval()
    with cr.no_grad():
        outputs = N.forward_layers(session.model, cr.from_numpy(inputs))
    session.model.train()
    step = OUTPUT_RESOLUTION // NEURON_RESOLUTION

    def small(column):
        return column.reshape(OUTPUT_RESOLUTION, OUTPUT_RESOLUTION)[::step, ::step]

    layers, scales = [], []
    for values in [inputs] + [o._data for o in outputs[:-1]]:
        maps, layer_scales = [], []
        for j in range(values.shape[1]):
            column = small(values[:, j])
            scale = float(max(1.0, np.abs(column).max())) if np.isfinite(column).all() else 1.0
            maps.append(encode_map(np.nan_to_num(column / scale)))
            layer_scales.append(scale)
        layers.append(maps)
        scales.append(layer_scales)
    display = N.prediction_display(np.nan_to_num(outputs[-1]._data), session.settings)
    return {"resolution": OUTPUT_RESOLUTION, "output": encode_map(display),
            "neuron_resolution": NEURON_RESOLUTION, "neurons": layers, "scales": scales}


def _network(session: Session) -> dict:
    grads = session.last_grads
    return {
        "widths": N.layer_widths(session.settings),
        "features": session.settings["features"],
        "feature_labels": [FEATURE_LABELS[f] for f in session.settings["features"]],
        "weights": [_round(layer.weight._data) for layer in session.linears],
        "biases": [_round(layer.bias._data) for layer in session.linears],
        "weight_grads": None if grads is None else [_round(g, 8) for g in grads["weights"]],
        "bias_grads": None if grads is None else [_round(g, 8) for g in grads["biases"]],
        "neuron_grads": None if grads is None else [_round(g, 8) for g in grads["neurons"]],
    }


def build_state(session: Session) -> dict:
    """The full state of a session as JSON-ready data (call under the session's lock)."""
    history = _thin(session.history, CURVE_POINTS)
    norms = _thin(session.norm_history, CURVE_POINTS // 2)
    latest = session.norm_history[-1][1:] if session.norm_history else []
    n_layers = len(session.linears)
    last = session.history[-1]
    diagnosis = diagnose(latest, session.settings["activation"])
    return {
        "session": session.id,
        "version": session.version,
        "data_version": session.data_version,
        "epoch": session.epoch,
        "playing": session.playing,
        "pending_epochs": session.pending_epochs,
        "error": session.error,
        "settings": session.settings,
        "loss": {"train": _finite(last[1]), "test": _finite(last[2])},
        "history": [[row[0], _finite(row[1]), _finite(row[2])] for row in history],
        "network": _network(session),
        "heatmaps": _heatmaps(session),
        "grad_norms": {
            "layers": [f"hidden {i + 1}" for i in range(n_layers - 1)] + ["output"],
            "history": [[row[0]] + [_finite(v) for v in row[1:]] for row in norms],
        },
        "diagnosis": diagnosis,
    }


def build_data(session: Session) -> dict:
    d = session.dataset
    return {
        "data_version": session.data_version,
        "regression": session.settings["dataset"] in ("plane", "waves"),
        "train": np.column_stack([d.train_points, d.train_labels]).round(3).tolist(),
        "test": np.column_stack([d.test_points, d.test_labels]).round(3).tolist(),
    }
