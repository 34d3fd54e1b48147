"""What the page sees: a session turned into plain JSON.

The state is built once per session version and kept as JSON bytes (``publish_state``), so ten
readers of one version (the page's event stream, polls) cost one build. While the trainer is in
the middle of a session's slice, readers get the last published state at once rather than wait
for the slice to end (``latest_state``), and the trainer publishes a fresh one when its slice
ends if anyone has asked since: a reader never waits on training and never builds twice.

Heat maps travel as base64 of one byte per cell (-1 → 0, 0 → 128, +1 → 255), row 0 at the top,
so a 40×40 map is 2 KB rather than a list of 1,600 numbers. Hidden neurons' maps are scaled by
their own largest |value| when that exceeds 1 (a ReLU's output is unbounded); ``scales`` says by
how much.
"""

from __future__ import annotations

import base64
import json
import math
import time

import numpy as np

import chainrule as cr

from ..locale import _, language
from . import network as N
from .datasets import FEATURE_LABELS, features, grid
from .diagnostics import dead_layers, diagnose
from .replay import activation_outputs, probe, probe_probability
from .session import Session, _thin
from .settings import is_regression
from .shown import significant
from .transforms import FEATURE_FORMULAS, pipeline

OUTPUT_RESOLUTION = 40
NEURON_RESOLUTION = 20
CURVE_POINTS = 200
STALE_SECONDS = 1.0   # the oldest published state a reader is given while its session trains


def encode_map(values: np.ndarray) -> str:
    """Values in [-1, 1] → base64 bytes."""
    cells = np.round((np.clip(values, -1, 1) + 1) * 127.5).astype(np.uint8)
    return base64.b64encode(cells.tobytes()).decode("ascii")


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
    """Weights and the last batch's gradients (the ones the optimiser stepped with; ``neuron_grads``
    are ∂L/∂a of each hidden layer and ∂L/∂ŷ of the output), to 6 significant digits (shown.py)."""
    grads = session.last_grads
    return {
        "widths": N.layer_widths(session.settings),
        "features": session.settings["features"],
        "feature_labels": [FEATURE_LABELS[f] for f in session.settings["features"]],
        "feature_formulas": [FEATURE_FORMULAS[f] for f in session.settings["features"]],
        "weights": [significant(layer.weight._data) for layer in session.linears],
        "biases": [significant(layer.bias._data) for layer in session.linears],
        "weight_grads": None if grads is None else [significant(g) for g in grads["weights"]],
        "bias_grads": None if grads is None else [significant(g) for g in grads["biases"]],
        "neuron_grads": None if grads is None else [significant(g) for g in grads["neurons"]],
    }


def _probe(session: Session) -> dict:
    """The example the explanation panel shows, through today's network (the forward view's
    tooltips): its point, label, inputs, and z and a of every neuron."""
    example = min(session.probe_example, len(session.train_y) - 1)
    values = probe(session, example)
    output = values.output
    return {
        "example": example,
        "point": significant(values.point),
        "label": values.label,
        "inputs": significant(values.inputs),
        "z": [significant(row) for row in values.z],
        "a": [significant(row) for row in values.a[:-1]],
        "output": significant(output),
        "probability": None if is_regression(session.settings) else significant(probe_probability(output)),
    }


def _last_step(session: Session) -> dict | None:
    record = session.last_step
    if record is None:
        return None
    return {"step": record["step"], "epoch": record["epoch"], "batch": [int(i) for i in record["batch"]]}


def build_state(session: Session) -> dict:
    """The full state of a session as JSON-ready data (call under the session's lock), its words
    in the session's language."""
    with language(session.lang):
        return _build_state(session)


def _build_state(session: Session) -> dict:
    history = _thin(session.history, CURVE_POINTS)
    norms = _thin(session.norm_history, CURVE_POINTS // 2)
    latest = session.norm_history[-1][1:] if session.norm_history else []
    n_layers = len(session.linears)
    last = session.history[-1]
    relu = session.settings["activation"] == "relu"  # only ReLU units can die
    dead = dead_layers("relu", activation_outputs(session)) if relu else []
    diagnosis = diagnose(latest, session.settings, session.history, dead)
    return {
        "session": session.id,
        "version": session.version,
        "data_version": session.data_version,
        "epoch": session.epoch,
        "playing": session.playing,
        "pending_epochs": session.pending_epochs,
        "error": None if session.error is None else _(session.error),
        "lang": session.lang,
        "settings": session.settings,
        "loss": {"train": _finite(last[1]), "test": _finite(last[2])},
        "history": [[row[0], _finite(row[1]), _finite(row[2])] for row in history],
        "network": _network(session),
        "probe": _probe(session),
        "last_step": _last_step(session),
        "pipeline": pipeline(session.settings),
        "heatmaps": _heatmaps(session),
        "grad_norms": {
            "layers": [_("hidden {i}").format(i=i + 1) for i in range(n_layers - 1)] + [_("output")],
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


def _clean(value):
    """JSON has no NaN or Infinity: send null instead."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def to_json(data) -> bytes:
    """Compact, ASCII-only JSON (non-finite numbers as null): safe to send whatever it holds."""
    return json.dumps(_clean(data), separators=(",", ":"), allow_nan=False).encode("ascii")


def publish_state(session: Session) -> tuple[int, bytes]:
    """(version, JSON bytes) of the session's current state, built only if the version moved on.

    Call under the session's lock."""
    cached = session.state_cache
    if cached is None or cached[0] != session.version:
        cached = (session.version, to_json(build_state(session)), time.monotonic())
        session.state_cache = cached
    return cached[0], cached[1]


def latest_state(session: Session) -> tuple[int, bytes] | None:
    """Without the lock: the published state if it is current, or, while the session is training,
    the last one published if it is under ``STALE_SECONDS`` old; None when the caller must call
    ``publish_state`` under the lock. Marks the state as wanted, so the trainer publishes the next
    one as its slice ends."""
    session.state_wanted = True
    cached = session.state_cache
    if cached is None:
        return None
    if cached[0] == session.version or (
            session.wants_training and time.monotonic() - cached[2] < STALE_SECONDS):
        return cached[0], cached[1]
    return None
