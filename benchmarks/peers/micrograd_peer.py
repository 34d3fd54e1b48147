"""micrograd: Karpathy's scalar engine (every number its own Value). Feasible only at its demo
scale (W2); its recursive topological sort overflows Python's stack on deep graphs (W3)."""

from __future__ import annotations

import math

from micrograd.engine import Value
from micrograd.nn import MLP

from . import Infeasible


def version() -> str:
    from importlib.metadata import version as installed_version

    return installed_version("micrograd")


def _tanh(v: Value) -> Value:
    """micrograd's Value has no tanh; added the way its own ops are written."""
    t = math.tanh(v.data)
    out = Value(t, (v,), "tanh")

    def _backward():
        v.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def _w2(problem):
    model = MLP(2, [16, 16, 1])  # ReLU on the hidden layers, linear output, like the other peers
    for layer, (weight, bias) in zip(model.layers, problem["layers"]):
        for neuron, row, b in zip(layer.neurons, weight.tolist(), bias.tolist()):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = b
    points, targets = problem["x"].tolist(), problem["y"].tolist()
    lr, params = problem["lr"], model.parameters()

    def step():
        model.zero_grad()
        loss = sum((model(p) - t) ** 2 for p, t in zip(points, targets)) * (1.0 / len(points))
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    return step


def _w3(problem):
    a, b, lr = Value(problem["a"]), Value(problem["b"]), problem["lr"]
    depth, x0 = problem["depth"], problem["x0"]

    def step():
        a.grad = b.grad = 0.0
        x = x0
        for _ in range(depth):
            x = _tanh(a * x + b)
        x.backward()
        a.data -= lr * a.grad
        b.data -= lr * b.grad
        return x.data

    return step


def build(workload, problem):
    if workload == "W2":
        return _w2(problem)
    if workload == "W3":
        return _w3(problem)
    raise Infeasible("scalar engine: a step would build tens of millions of Value objects")
