"""tinygrad on its CPU device (DEV=CPU; it compiles kernels with clang), each training step under
TinyJit as tinygrad's own training examples do. The worker sets DEV=CPU and TRAINING=1 before
importing it."""

from __future__ import annotations

import numpy as np
from tinygrad import Device, Tensor, TinyJit
from tinygrad import nn as tnn

from . import Infeasible


def version() -> str:
    from importlib.metadata import version as installed_version

    return f"{installed_version('tinygrad')} (device {Device.DEFAULT})"


def _linear(weight, bias):
    layer = tnn.Linear(weight.shape[1], weight.shape[0])
    layer.weight, layer.bias = Tensor(weight.copy()), Tensor(bias.copy())
    return layer


def _mlp(layers):
    linears = [_linear(w, b) for w, b in layers]

    def forward(x):
        for i, layer in enumerate(linears):
            x = layer(x)
            if i < len(linears) - 1:
                x = x.relu()
        return x

    return forward, [p for layer in linears for p in (layer.weight, layer.bias)]


def _jitted_step(params, compute_loss, lr):
    optimizer = tnn.optim.SGD(params, lr=lr)

    @TinyJit
    def train_step():
        optimizer.zero_grad()
        loss = compute_loss()
        loss.backward()
        return loss.realize(*optimizer.schedule_step())  # one schedule: the loss sees the old weights

    return lambda: train_step().item()


def _w1(problem):
    forward, params = _mlp(problem["layers"])
    x, labels = Tensor(problem["x"]), Tensor(problem["labels"].astype(np.int32))
    return _jitted_step(params, lambda: forward(x).sparse_categorical_crossentropy(labels), problem["lr"])


def _w2(problem):
    forward, params = _mlp(problem["layers"])
    x, y = Tensor(problem["x"]), Tensor(problem["y"])
    return _jitted_step(params, lambda: ((forward(x)[:, 0] - y) ** 2).mean(), problem["lr"])


def _w3(problem):
    # Measured here (tinygrad 0.14, CPU): the lazy graph of a deep scalar chain is compiled as one
    # program; 100 steps took ~100 s and returned NaN, 1,000 steps raised RecursionError.
    raise Infeasible("deep scalar chain: tinygrad compiles the whole lazy graph; 100 steps took ~100 s "
                     "(and gave NaN), 1,000 raised RecursionError")


def _w4(problem):
    conv = tnn.Conv2d(1, 8, 3)
    conv.weight, conv.bias = Tensor(problem["conv_weight"].copy()), Tensor(problem["conv_bias"].copy())
    fc = _linear(problem["fc_weight"], problem["fc_bias"])
    x, labels = Tensor(problem["x"]), Tensor(problem["labels"].astype(np.int32))

    def loss():
        hidden = conv(x).relu().max_pool2d((2, 2))
        return fc(hidden.flatten(1)).sparse_categorical_crossentropy(labels)

    return _jitted_step([conv.weight, conv.bias, fc.weight, fc.bias], loss, problem["lr"])


def build(workload, problem):
    builders = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4}
    if workload not in builders:
        raise Infeasible(f"no tinygrad version of {workload}")
    return builders[workload](problem)
