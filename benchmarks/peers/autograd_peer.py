"""HIPS autograd: the loss written with autograd.numpy, ``grad`` of it, then a plain SGD update.

autograd has no layer library, so each network is a function of a list of weight arrays.
"""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np

from . import Infeasible


def version() -> str:
    from importlib.metadata import version as installed_version

    return installed_version("autograd")


def _cross_entropy(logits, labels):
    shifted = logits - anp.max(logits, axis=1, keepdims=True)
    log_total = anp.log(anp.sum(anp.exp(shifted), axis=1))
    return anp.mean(log_total - shifted[np.arange(labels.shape[0]), labels])


def _mlp_forward(params, x):
    for i in range(0, len(params), 2):
        x = anp.dot(x, params[i].T) + params[i + 1]
        if i < len(params) - 2:
            x = anp.maximum(x, 0.0)
    return x


def _training_step(params, loss_fn, lr):
    value_and_grad = autograd.value_and_grad(loss_fn)

    def step():
        loss, grads = value_and_grad(params)
        for p, g in zip(params, grads):
            p -= lr * g
        return float(loss)

    return step


def _w1(problem):
    params = [a.copy() for layer in problem["layers"] for a in layer]
    x, labels = problem["x"], problem["labels"]
    return _training_step(params, lambda p: _cross_entropy(_mlp_forward(p, x), labels), problem["lr"])


def _w2(problem):
    params = [a.copy() for layer in problem["layers"] for a in layer]
    x, y = problem["x"], problem["y"]
    return _training_step(params, lambda p: anp.mean((_mlp_forward(p, x)[:, 0] - y) ** 2), problem["lr"])


def _w3(problem):
    depth, x0, lr = problem["depth"], problem["x0"], problem["lr"]
    state = {"a": problem["a"], "b": problem["b"]}

    def chain(a, b):
        x = x0
        for _ in range(depth):
            x = anp.tanh(a * x + b)
        return x

    value_and_grad = autograd.value_and_grad(chain, argnum=(0, 1))

    def step():
        value, (grad_a, grad_b) = value_and_grad(state["a"], state["b"])
        state["a"] -= lr * grad_a
        state["b"] -= lr * grad_b
        return float(value)

    return step


def _w4(problem):
    x, labels = problem["x"], problem["labels"]
    n = x.shape[0]
    cols = np.lib.stride_tricks.sliding_window_view(x[:, 0], (3, 3), axis=(1, 2)).reshape(-1, 9)
    params = [problem[k].copy() for k in ("conv_weight", "conv_bias", "fc_weight", "fc_bias")]

    def loss(p):
        conv_w, conv_b, fc_w, fc_b = p
        conv = anp.reshape(anp.dot(cols, anp.reshape(conv_w, (8, 9)).T), (n, 26, 26, 8)) + conv_b
        relu = anp.maximum(conv, 0.0)
        pooled = anp.max(anp.reshape(relu, (n, 13, 2, 13, 2, 8)), axis=(2, 4))
        flat = anp.reshape(anp.transpose(pooled, (0, 3, 1, 2)), (n, -1))
        return _cross_entropy(anp.dot(flat, fc_w.T) + fc_b, labels)

    return _training_step(params, loss, problem["lr"])


def build(workload, problem):
    builders = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4}
    if workload not in builders:
        raise Infeasible(f"no autograd version of {workload}")
    return builders[workload](problem)
