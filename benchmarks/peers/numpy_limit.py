"""The limit: each network's forward and backward written out by hand in NumPy.

No graph, no wrappers, in-place updates: what a perfect engine on NumPy would cost. The
backward formulas are the same chain rule the engines apply, specialised to each network.
"""

from __future__ import annotations

import numpy as np

from . import Infeasible


def version() -> str:
    return np.__version__


def _sgd(params, grads, lr):
    for p, g in zip(params, grads):
        p -= lr * g


def _softmax_cross_entropy(logits, labels):
    """Mean cross-entropy and its gradient with respect to the logits."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = np.log(total[:, 0]).mean() - shifted[np.arange(n), labels].mean()
    grad = exp / total
    grad[np.arange(n), labels] -= 1
    grad /= n
    return float(loss), grad


def _mlp(problem, loss_and_grad):
    """A ReLU MLP; ``loss_and_grad(output) -> (loss, dL/d(output))``."""
    params = [array.copy() for layer in problem["layers"] for array in layer]
    weights, biases = params[0::2], params[1::2]
    x, lr = problem["x"], problem["lr"]

    def step():
        activations, pre = [x], []
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = activations[-1] @ w.T
            z += b
            if i < len(weights) - 1:
                pre.append(z)
                z = np.maximum(z, 0)
            activations.append(z)
        loss, grad = loss_and_grad(activations[-1])
        grads = []
        for i in range(len(weights) - 1, -1, -1):
            grads.append(grad.sum(axis=0))            # dL/db
            grads.append(grad.T @ activations[i])     # dL/dW
            if i:
                grad = grad @ weights[i]
                grad *= pre[i - 1] > 0
        _sgd(params, grads[::-1], lr)
        return loss

    return step


def _w1(problem):
    labels = problem["labels"]
    return _mlp(problem, lambda logits: _softmax_cross_entropy(logits, labels))


def _w2(problem):
    target = problem["y"][:, None]

    def mse(output):
        diff = output - target
        return float((diff * diff).mean()), diff * np.float32(2.0 / diff.size)

    return _mlp(problem, mse)


def _w3(problem):
    depth, x0, lr = problem["depth"], np.float32(problem["x0"]), np.float32(problem["lr"])
    state = {"a": np.float32(problem["a"]), "b": np.float32(problem["b"])}
    one = np.float32(1.0)

    def step():
        a, b = state["a"], state["b"]
        xs = [x0]
        for _ in range(depth):
            xs.append(np.tanh(a * xs[-1] + b))
        grad, grad_a, grad_b = one, np.float32(0.0), np.float32(0.0)
        for i in range(depth, 0, -1):
            y = xs[i]
            grad_z = grad * (one - y * y)
            grad_a += grad_z * xs[i - 1]
            grad_b += grad_z
            grad = grad_z * a
        state["a"], state["b"] = a - lr * grad_a, b - lr * grad_b
        return float(xs[-1])

    return step


def _w4(problem):
    x, labels, lr = problem["x"], problem["labels"], problem["lr"]
    params = [problem[k].copy() for k in ("conv_weight", "conv_bias", "fc_weight", "fc_bias")]
    conv_w, conv_b, fc_w, fc_b = params
    n = x.shape[0]
    # im2col once (the input needs no gradient): (n*26*26, 9) taps of each 3x3 window
    cols = np.lib.stride_tricks.sliding_window_view(x[:, 0], (3, 3), axis=(1, 2)).reshape(-1, 9)

    def step():
        conv = (cols @ conv_w.reshape(8, 9).T).reshape(n, 26, 26, 8) + conv_b   # channels last
        relu = np.maximum(conv, 0)
        windows = relu.reshape(n, 13, 2, 13, 2, 8)
        pooled = windows.max(axis=(2, 4))                                      # (n, 13, 13, 8)
        flat = pooled.transpose(0, 3, 1, 2).reshape(n, -1)                     # PyTorch's order
        logits = flat @ fc_w.T + fc_b
        loss, grad = _softmax_cross_entropy(logits, labels)
        grad_fc_w, grad_fc_b = grad.T @ flat, grad.sum(axis=0)
        grad_pooled = (grad @ fc_w).reshape(n, 8, 13, 13).transpose(0, 2, 3, 1)
        mask = windows == pooled[:, :, None, :, None, :]
        grad_relu = (mask * grad_pooled[:, :, None, :, None, :]).reshape(n, 26, 26, 8)
        grad_conv = (grad_relu * (conv > 0)).reshape(-1, 8)
        grad_conv_w = (grad_conv.T @ cols).reshape(8, 1, 3, 3)
        _sgd(params, [grad_conv_w, grad_conv.sum(axis=0), grad_fc_w, grad_fc_b], lr)
        return loss

    return step


def build(workload, problem):
    builders = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4}
    if workload not in builders:
        raise Infeasible(f"no hand-written version of {workload}")
    return builders[workload](problem)
