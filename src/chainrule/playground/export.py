"""Export: the trained network as a chainrule save file or a .safetensors file (which PyTorch and
other tools read), and a Python script that rebuilds and retrains the same network with chainrule
(same data, features, layers and optimiser)."""

from __future__ import annotations

import os
import tempfile

import chainrule as cr

from .datasets import FEATURE_SOURCE
from .settings import is_regression


def export_model(session, format: str = "chainrule") -> bytes:
    """``cr.save(model.state_dict(), path, format=format)``, returned as the file's bytes
    (``format="safetensors"``: the safetensors file, which needs the safetensors package)."""
    handle, path = tempfile.mkstemp(suffix=".crt")
    os.close(handle)
    try:
        cr.save(session.model.state_dict(), path, format=format)
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.unlink(path)


def export_safetensors(session) -> bytes:
    """The weights as a .safetensors file (PyTorch: ``safetensors.torch.load_file``)."""
    return export_model(session, format="safetensors")


def _model_source(s: dict) -> str:
    widths = [len(s["features"])] + list(s["hidden"]) + [1]
    activation = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "linear": None}
    act = activation[s["activation"]]
    lines = []
    for fan_in, fan_out in zip(widths[:-2], widths[1:-1]):
        parts = [f"nn.Linear({fan_in}, {fan_out})"]
        if s["batch_norm"]:
            parts.append(f"nn.BatchNorm1d({fan_out})")
        if act:
            parts.append(act)
        block = f"nn.Sequential({', '.join(parts)})"
        if s["residual"] and fan_in == fan_out:
            block = f"nn.Residual({block})"
        lines.append(f"    {block},")
    lines.append(f"    nn.Linear({widths[-2]}, 1),")
    return "model = nn.Sequential(\n" + "\n".join(lines) + "\n)"


def _rows(values: list, per_line: int) -> str:
    """A long list as Python source, ``per_line`` items a line."""
    lines = [", ".join(repr(v) for v in values[i:i + per_line]) for i in range(0, len(values), per_line)]
    return "[\n    " + ",\n    ".join(lines) + ",\n]"


def export_code(session) -> str:
    s = session.settings
    d = session.dataset
    regression = is_regression(s)
    feature_rows = "\n        ".join(f"{FEATURE_SOURCE[f]},   # {f}" for f in s["features"])
    optimizer = {
        "sgd": f"optim.SGD(model.parameters(), lr={s['learning_rate']!r})",
        "momentum": f"optim.SGD(model.parameters(), lr={s['learning_rate']!r}, momentum=0.9)",
        "adam": f"optim.Adam(model.parameters(), lr={s['learning_rate']!r})",
    }[s["optimizer"]]
    if regression:
        loss_line = "loss = ((output.reshape(-1) - y) ** 2).mean()          # mean squared error"
    else:
        loss_line = ("z = output.reshape(-1)\n        loss = (cr.softplus(z) - y * z).mean()"
                     "                # binary cross-entropy on the logit")
    penalty = ""
    if s["regularization"] != "none" and s["reg_rate"] > 0:
        term = "w.abs().sum()" if s["regularization"] == "l1" else "(w * w).sum() * 0.5"
        penalty = ("\n        for layer in model.modules():\n            if isinstance(layer, nn.Linear):\n"
                   "                w = layer.weight\n"
                   f"                loss = loss + {s['reg_rate']!r} * {term}"
                   f"   # {s['regularization'].upper()}")
    clip = ""
    if s["clip_norm"] > 0:
        clip = f"\n        nn.utils.clip_grad_norm_(model.parameters(), max_norm={s['clip_norm']!r})"
    skip_small = ("\n        if len(batch) < 2:  # batch norm needs two examples\n            continue"
                  if s["batch_norm"] else "")
    train = _rows(d.train_points.round(4).tolist(), 4)
    labels = _rows(d.train_labels.round(4).tolist(), 12)
    return f'''"""Rebuilds and retrains the chainrule playground network (exported at epoch {session.epoch}).

Data set: {s["dataset"]} (noise {s["noise"]}%, {s["train_ratio"]}% for training, seed {s["seed"]});
features: {", ".join(s["features"])}; hidden layers: {s["hidden"] or "none"}; activation: {s["activation"]}.
Load the trained weights instead of retraining with:
    model.load_state_dict(cr.load("playground_model.crt"))   # or "playground_model.safetensors"
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim

# The training points (x1, x2) and their {"targets" if regression else "labels"}, as in the playground.
points = np.array({train}, dtype=np.float32)
targets = np.array({labels}, dtype=np.float32)


def features(points):
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([
        {feature_rows}
    ], axis=1).astype(np.float32)


cr.manual_seed({s["seed"]})
{_model_source(s)}
optimizer = {optimizer}

x_all, y_all = features(points), targets
rng = np.random.default_rng({s["seed"]})
for epoch in range({max(session.epoch, 100)}):
    order = rng.permutation(len(y_all))
    for start in range(0, len(order), {s["batch_size"]}):
        batch = order[start:start + {s["batch_size"]}]{skip_small}
        x, y = cr.from_numpy(x_all[batch]), cr.from_numpy(y_all[batch])
        output = model(x)
        {loss_line}{penalty}
        optimizer.zero_grad()
        loss.backward(){clip}
        optimizer.step()
    if epoch % 50 == 0:
        print(f"epoch {{epoch}}: loss {{loss.item():.4f}}")

cr.save(model.state_dict(), "playground_model_retrained.crt")
'''
