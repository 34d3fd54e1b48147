"""The limit: each network's forward and backward written out by hand in NumPy.

No graph, no wrappers, in-place updates: what a perfect engine on NumPy would cost. The
backward formulas are the same chain rule the engines apply, specialised to each network.

The allocator gets the setting chainrule's backend makes on Linux/glibc (keep 64 MiB of freed
heap rather than returning it to the kernel after every step and page-faulting it back in), so
the limit measures arithmetic, not page faults; CHAINRULE_MALLOC_TUNING=0 turns it off in both.
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

from . import Infeasible


def _keep_freed_heap(top_pad_bytes: int = 64 << 20) -> bool:
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-2, top_pad_bytes))  # -2: M_TOP_PAD
    except (OSError, AttributeError):
        return False


ALLOCATOR_TUNED = _keep_freed_heap()


def version() -> str:
    return f"{np.__version__} (malloc top pad {'64 MiB' if ALLOCATOR_TUNED else 'default'})"


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
    """The conv as one (8, 9) @ (9, 26*26) product per image (a batched matmul).

    On this machine (OpenBLAS, 2 threads, Haswell kernels) a single (8, 9) @ (9, n*26*26) product
    took 8 ms with 2 threads and 0.1 ms with one; the batched form takes 0.05-0.09 ms."""
    x, labels, lr = problem["x"], problem["labels"], problem["lr"]
    params = [problem[k].copy() for k in ("conv_weight", "conv_bias", "fc_weight", "fc_bias")]
    conv_w, conv_b, fc_w, fc_b = params
    n = x.shape[0]
    # im2col once (the input needs no gradient): windows[i] is (26*26, 9), columns[i] (9, 26*26)
    windows = np.lib.stride_tricks.sliding_window_view(x[:, 0], (3, 3), axis=(1, 2)).reshape(n, -1, 9)
    columns = np.ascontiguousarray(windows.transpose(0, 2, 1))
    taps = [(i, j) for i in range(2) for j in range(2)]  # the 2x2 pooling window's offsets

    def step():
        conv = (conv_w.reshape(8, 9) @ columns).reshape(n, 8, 26, 26)
        conv += conv_b[:, None, None]
        relu = np.maximum(conv, 0)
        pooled = relu[:, :, 0::2, 0::2]
        for i, j in taps[1:]:
            pooled = np.maximum(pooled, relu[:, :, i::2, j::2])                  # (n, 8, 13, 13)
        flat = pooled.reshape(n, -1)
        logits = flat @ fc_w.T
        logits += fc_b
        loss, grad = _softmax_cross_entropy(logits, labels)
        grad_fc_w, grad_fc_b = grad.T @ flat, grad.sum(axis=0)
        grad_pooled = (grad @ fc_w).reshape(pooled.shape)
        grad_conv = np.zeros_like(conv)
        taken = np.zeros(pooled.shape, dtype=bool)
        for i, j in taps:  # each window's gradient to its first maximum, as PyTorch does
            hit = relu[:, :, i::2, j::2] == pooled
            hit &= ~taken
            taken |= hit
            np.multiply(grad_pooled, hit, out=grad_conv[:, :, i::2, j::2])
        grad_conv *= conv > 0
        grad_conv = grad_conv.reshape(n, 8, -1)
        grad_conv_w = (grad_conv @ windows).sum(axis=0).reshape(8, 1, 3, 3)
        _sgd(params, [grad_conv_w, grad_conv.sum(axis=(0, 2)), grad_fc_w, grad_fc_b], lr)
        return loss

    return step


def build(workload, problem):
    builders = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4}
    if workload not in builders:
        raise Infeasible(f"no hand-written version of {workload}")
    return builders[workload](problem)
