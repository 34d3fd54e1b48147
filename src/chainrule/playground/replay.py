"""The network run again on chosen examples, keeping every layer's values and their gradients.

Each hidden layer of the playground's network is, for an input a (one row per example),

    z = a Wᵀ + b            (the Linear: pre-activation)
    h = BN(z)               (batch norm, when on; h = z otherwise)
    f = act(h)              (the activation's output: what a dead ReLU holds at 0)
    a' = f   or   a + f     (the layer's output; a + f with a residual connection)

and the output layer is ŷ = a Wᵀ + b. ``walk`` runs these steps with the model's own modules, so
the values are the very floats ``model(x)`` computes, and keeps z, f and a' of every layer.

    probe(session, example)  one training example through the current network in eval mode,
                             as the page's heat maps are drawn: the forward view's numbers
    replay_last_step(session) the last optimiser step again, on a copy of the network holding the
                             weights from *before* that step, in training mode, on the same batch:
                             the recorded gradients come out again, and with them ∂L/∂z and ∂L/∂a
                             of every example, so the batch gradient can be written as the average
                             of per-example chain-rule products
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import chainrule as cr
from chainrule import nn

from . import network as N
from .settings import is_regression


@dataclass
class LayerValues:
    """One layer's tensors for a batch of examples (rows)."""

    a_in: cr.Tensor      # the layer's input a
    z: cr.Tensor         # pre-activation a Wᵀ + b
    h: cr.Tensor         # the activation's input: BN(z) with batch norm, else z
    f: cr.Tensor         # activation output (z for the output layer)
    a_out: cr.Tensor     # the layer's output
    linear: nn.Linear
    norm: object         # nn.BatchNorm1d or None
    activation: object   # the activation module or None
    residual: bool


def block_parts(block):
    """(linear, batch norm or None, activation module or None, residual?) of one layer block."""
    modules = list(block.modules())
    linear = next(m for m in modules if isinstance(m, nn.Linear))
    norm = next((m for m in modules if isinstance(m, nn.BatchNorm1d)), None)
    activation = next((m for m in modules if isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid))), None)
    return linear, norm, activation, isinstance(block, nn.Residual)


def walk(model: nn.Sequential, x: cr.Tensor, keep_grads: bool = False) -> list[LayerValues]:
    """Every layer of ``model`` on ``x``, step by step (see the module docstring)."""
    layers, a = [], x
    blocks = list(model)
    for index, block in enumerate(blocks):
        linear, norm, activation, residual = block_parts(block)
        z = linear(a)
        if index == len(blocks) - 1:
            h = f = out = z
        else:
            h = norm(z) if norm is not None else z
            f = activation(h) if activation is not None else h
            out = a + f if residual else f
        if keep_grads:
            for tensor in (z, h, f, out):
                if tensor.requires_grad and not tensor.is_leaf:
                    tensor.retain_grad()
        layers.append(LayerValues(a, z, h, f, out, linear, norm, activation, residual))
        a = out
    return layers


@dataclass
class Probe:
    """One example through the current network (eval mode): plain floats, input side first."""

    example: int
    point: tuple             # the raw (x1, x2) the plot shows
    label: float
    inputs: list             # the features the network sees
    z: list                  # z per layer (hidden layers, then the output)
    a: list                  # a' per layer
    f: list                  # activation output per layer

    @property
    def output(self) -> float:
        return self.z[-1][0]


def probe_probability(logit: float) -> float:
    """σ(ŷ): the probability of class 1 the output gives (one formula for the tooltip and the text)."""
    return 1.0 / (1.0 + math.exp(-logit)) if logit >= 0 else math.exp(logit) / (1.0 + math.exp(logit))


def probe(session, example: int) -> Probe:
    """Example ``example`` of the training set through the network as it is now (eval mode)."""
    x = cr.from_numpy(session.train_x._data[example:example + 1])
    session.model.eval()
    try:
        with cr.no_grad():
            layers = walk(session.model, x)
    finally:
        session.model.train()
    rows = lambda tensors: [[float(v) for v in t._data[0]] for t in tensors]  # noqa: E731
    point = session.dataset.train_points[example]
    return Probe(example, (float(point[0]), float(point[1])), float(session.train_y._data[example]),
                 [float(v) for v in x._data[0]], rows(lay.z for lay in layers),
                 rows(lay.a_out for lay in layers), rows(lay.f for lay in layers))


def activation_outputs(session) -> list[np.ndarray]:
    """Every hidden layer's activation output f over the whole training set (eval mode)."""
    session.model.eval()
    try:
        with cr.no_grad():
            layers = walk(session.model, session.train_x)
    finally:
        session.model.train()
    return [lay.f._data for lay in layers[:-1]]


@dataclass
class Replay:
    """The last step, replayed: tensors per layer with their ``.grad`` (∂L/∂· of the batch's mean
    data loss), the data and penalty parts of each weight's gradient, and the clipping."""

    batch: np.ndarray            # training-set indices of the batch's examples
    x: cr.Tensor                 # their inputs (with ∂L/∂x in .grad)
    labels: np.ndarray           # their labels or targets
    layers: list                 # LayerValues per layer, each tensor with .grad
    loss: cr.Tensor              # the mean data loss of the batch
    data_grads: list             # ∂(data loss)/∂W per layer (arrays)
    penalty_grads: list          # ∂(penalty)/∂W per layer (arrays; zeros when off)
    raw_total_norm: float        # ‖g‖ over every parameter before clipping
    clip_coefficient: float      # what clipping multiplied every gradient by (1 when off / not needed)
    settings: dict               # the settings of that step (live ones may have changed since)
    step: int
    epoch: int

    @property
    def size(self) -> int:
        return len(self.batch)


def replay_last_step(session) -> Replay | None:
    """The last optimiser step again (None before the first one); see the module docstring."""
    record = session.last_step
    if record is None:
        return None
    settings = record["settings"]
    model = N.build_model(settings)
    for name, param in model.named_parameters():
        param._data[...] = record["params"][name]
    model.train()
    batch = record["batch"]
    x = cr.tensor(session.train_x._data[batch], requires_grad=True)
    y = cr.from_numpy(session.train_y._data[batch])
    layers = walk(model, x, keep_grads=True)
    loss = N.data_loss(layers[-1].a_out, y, is_regression(settings))
    loss.backward()
    data_grads = [lay.linear.weight.grad._data.copy() for lay in layers]
    data_all = [p.grad._data.copy() for p in model.parameters()]
    penalty = N.penalty(model, settings["regularization"], settings["reg_rate"])
    weights = [lay.linear.weight for lay in layers]
    if penalty is None:
        penalty_grads = [np.zeros_like(w._data) for w in weights]
    else:
        penalty_grads = [g._data for g in cr.grad(penalty, weights)]
    totals = list(data_all)
    weight_ids = {id(w): k for k, w in enumerate(weights)}
    for index, param in enumerate(model.parameters()):
        if id(param) in weight_ids:
            totals[index] = totals[index] + penalty_grads[weight_ids[id(param)]]
    raw_total = float(sum(np.dot(g.reshape(-1).astype(np.float64), g.reshape(-1).astype(np.float64))
                          for g in totals)) ** 0.5
    coefficient = 1.0
    if settings["clip_norm"] > 0:
        coefficient = min(settings["clip_norm"] / (raw_total + 1e-6), 1.0)
    return Replay(batch, x, y._data, layers, loss, data_grads, penalty_grads, raw_total, coefficient,
                  settings, record["step"], record["epoch"])
