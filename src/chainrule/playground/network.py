"""The playground's network: a chainrule ``nn.Sequential`` built from the settings, and a
forward pass that keeps every hidden layer's output so the page can show it.

    model = Sequential(hidden_0, hidden_1, ..., output)
    hidden_k = Sequential(Linear, [BatchNorm1d], [activation])      (wrapped in Residual when on
                                                                       and the widths match)
    output = Linear(width, 1)                                        a logit, or a regression value

Classification loss: binary cross-entropy on the logit z, written with chainrule's ops as
    L = mean(softplus(z) - y z)          so that dL/dz = (sigmoid(z) - y) / n.
Regression loss: mean squared error, L = mean((z - y)^2).
"""

from __future__ import annotations

import threading

import numpy as np

import chainrule as cr
from chainrule import nn

from .settings import is_regression

_build_lock = threading.Lock()  # cr.manual_seed is global: build one network at a time

ACTIVATION_MODULES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": None}


def layer_widths(settings: dict) -> list[int]:
    """Widths from the inputs to the output: [n_features, hidden..., 1]."""
    return [len(settings["features"])] + list(settings["hidden"]) + [1]


def build_model(settings: dict) -> nn.Sequential:
    """The network for ``settings``, its initial weights drawn from ``settings['seed']``."""
    widths = layer_widths(settings)
    activation = ACTIVATION_MODULES[settings["activation"]]
    with _build_lock:
        cr.manual_seed(settings["seed"])
        layers = []
        for fan_in, fan_out in zip(widths[:-2], widths[1:-1]):
            parts = [nn.Linear(fan_in, fan_out)]
            if settings["batch_norm"]:
                parts.append(nn.BatchNorm1d(fan_out))
            if activation is not None:
                parts.append(getattr(nn, activation)())
            block = nn.Sequential(*parts)
            if settings["residual"] and fan_in == fan_out:
                block = nn.Residual(block)
            layers.append(block)
        layers.append(nn.Linear(widths[-2], 1))
        return nn.Sequential(*layers)


def linear_layers(model: nn.Sequential) -> list:
    """The Linear of each layer in order (hidden layers, then the output)."""
    found = []
    for block in model:
        found.append(next(m for m in block.modules() if isinstance(m, nn.Linear)))
    return found


def forward_layers(model: nn.Sequential, inputs: cr.Tensor, keep_grads: bool = False) -> list:
    """Every layer's output: [hidden_0, ..., output]. With ``keep_grads`` every output keeps its
    ∂L/∂a (∂L/∂ŷ for the output) after backward (``.grad``), for the gradient view."""
    outputs, value = [], inputs
    for block in model:
        value = block(value)
        if keep_grads and value.requires_grad:
            value.retain_grad()
        outputs.append(value)
    return outputs


def data_loss(output: cr.Tensor, targets: cr.Tensor, regression: bool) -> cr.Tensor:
    """Mean loss of the output column (n, 1) against targets (n,)."""
    z = output.reshape(-1)
    if regression:
        return ((z - targets) ** 2).mean()
    return (cr.softplus(z) - targets * z).mean()


def penalty(model: nn.Sequential, kind: str, rate: float):
    """L1: rate · Σ|w|; L2: rate · Σw²/2, over the weights (not the biases); None when off."""
    if kind == "none" or rate == 0:
        return None
    total = None
    for layer in linear_layers(model):
        w = layer.weight
        term = w.abs().sum() if kind == "l1" else (w * w).sum() * 0.5
        total = term if total is None else total + term
    return total * rate


def make_optimizer(model: nn.Sequential, settings: dict):
    from chainrule import optim

    params = list(model.parameters())
    rate = settings["learning_rate"]
    if settings["optimizer"] == "adam":
        return optim.Adam(params, lr=rate)
    momentum = 0.9 if settings["optimizer"] == "momentum" else 0.0
    return optim.SGD(params, lr=rate, momentum=momentum)


def prediction_display(output, settings: dict):
    """Output values mapped to [-1, 1] for colouring: 2·sigmoid(z) - 1, or the clipped regression value."""
    z = output.reshape(-1)
    if is_regression(settings):
        return np.clip(z, -1, 1)
    return np.tanh(z / 2)  # = 2 sigmoid(z) - 1
