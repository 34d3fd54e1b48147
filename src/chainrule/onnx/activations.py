"""Activation layers as ONNX nodes (same converter signature as layers.py).

    ReLU        Relu                 LeakyReLU   LeakyRelu(alpha = negative_slope)
    Sigmoid     Sigmoid              Tanh        Tanh
    ELU         Elu(alpha)           SiLU        x * Sigmoid(x)
    Softmax     Softmax(axis)        LogSoftmax  LogSoftmax(axis)   (dim=None: PyTorch's legacy choice)
    GELU        Gelu (opset 20+); before it, the formula in ONNX's own operators:
                  'none'  x/2 (1 + erf(x / sqrt 2))
                  'tanh'  x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Softplus    log(1 + e^(beta x)) / beta, and x itself where beta x > threshold:
                  Where(beta x > threshold, x, Softplus(beta x) / beta)
"""

from __future__ import annotations

import math

from .. import nn
from ..nn.functional import _softmax_dim


def _simple(op_type):
    def convert(g, module, x, shape, scope):
        return g.node(op_type, [x], scope)
    return convert


def leaky_relu(g, module, x, shape, scope):
    return g.node("LeakyRelu", [x], scope, alpha=float(module.negative_slope))


def elu(g, module, x, shape, scope):
    return g.node("Elu", [x], scope, alpha=float(module.alpha))


def silu(g, module, x, shape, scope):
    return g.node("Mul", [x, g.node("Sigmoid", [x], scope)], scope)


def gelu(g, module, x, shape, scope):
    if g.opset_version >= 20:
        return g.node("Gelu", [x], scope, approximate=module.approximate)
    half_x = g.node("Mul", [x, g.constant(0.5, name="half")], scope)
    if module.approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x], scope), x], scope)
        inner = g.node("Add", [x, g.node("Mul", [cube, g.constant(0.044715, name="c")], scope)], scope)
        core = g.node("Tanh", [g.node("Mul", [inner, g.constant(math.sqrt(2 / math.pi), name="k")], scope)],
                      scope)
    else:
        core = g.node("Erf", [g.node("Div", [x, g.constant(math.sqrt(2.0), name="sqrt2")], scope)], scope)
    return g.node("Mul", [half_x, g.node("Add", [core, g.constant(1.0, name="one")], scope)], scope)


def softplus(g, module, x, shape, scope):
    beta = g.constant(float(module.beta), name="beta")
    scaled = g.node("Mul", [x, beta], scope)
    smooth = g.node("Div", [g.node("Softplus", [scaled], scope), beta], scope)
    linear = g.node("Greater", [scaled, g.constant(float(module.threshold), name="threshold")], scope)
    return g.node("Where", [linear, x, smooth], scope)


def _softmax_like(op_type):
    def convert(g, module, x, shape, scope):
        return g.node(op_type, [x], scope, axis=_softmax_dim(module.dim, len(shape)))
    return convert


ACTIVATIONS = {
    nn.ReLU: _simple("Relu"), nn.Sigmoid: _simple("Sigmoid"), nn.Tanh: _simple("Tanh"),
    nn.LeakyReLU: leaky_relu, nn.ELU: elu, nn.SiLU: silu, nn.GELU: gelu, nn.Softplus: softplus,
    nn.Softmax: _softmax_like("Softmax"), nn.LogSoftmax: _softmax_like("LogSoftmax"),
}
