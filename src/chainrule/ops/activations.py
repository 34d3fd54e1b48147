"""Activation functions and the (log-)softmax family, all numerically stable.

g = dL/dy for the VJPs; dx is x's tangent and dy y's for the JVPs (forward mode). The
element-wise ones have a diagonal Jacobian: dy is the VJP's factor times dx.

    y = relu(x)            dL/dx = g * [x > 0]                    dy = [x > 0] dx
    y = leaky_relu(x, s)   dL/dx = g * (1 if x > 0 else s)        dy = (1 if x > 0 else s) dx
    y = elu(x, a)          y = x if x > 0 else a (e^x - 1);   dL/dx = g * (1 if x > 0 else a e^x)
                           (a e^0 = a at exactly 0, as PyTorch)   dy = (1 if x > 0 else a e^x) dx
    y = sigmoid(x)         dL/dx = g * y * (1 - y)                dy = y (1 - y) dx
    y = tanh(x)            dL/dx = g * (1 - y^2)                  dy = (1 - y^2) dx
    y = silu(x) = x s(x)   dL/dx = g * s (1 + x (1 - s)),   s = sigmoid(x)     dy = s (1 + x (1 - s)) dx
    y = gelu(x)            dL/dx = g * (Phi(x) + x * phi(x))           Phi, phi: normal cdf, pdf
                           dy = (Phi(x) + x phi(x)) dx
    y = gelu_tanh(x)       y = x/2 (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3)
                           dL/dx = g * (1/2 (1 + tanh u) + x/2 (1 - tanh^2 u) u')     dy: the same factor
    y = softplus(x)        y = log(1 + e^(b x)) / b   (x when b x > threshold)
                           dL/dx = g * sigmoid(b x)               dy = sigmoid(b x) dx
    y = softmax(x)         dL/dx = y * (g - sum(g * y))           dy = y * (dx - sum(y * dx))
                                                                  (sums along dim; J is symmetric)
    y = log_softmax(x)     dL/dx = g - exp(y) * sum(g)            dy = dx - sum(exp(y) * dx)
    y = logsumexp(x)       dL/dx = g * exp(x - y)                 dy = sum(exp(x - y) * dx)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import ArgumentError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .operands import kept_shape, normalize_dim, reduce_args
from .unary import as_float

if TYPE_CHECKING:
    from .._typing import Dims


def _relu_forward(x):
    """max(x, 0) against an array of zeros (one sample's shape; the whole shape when 1-D), not the
    scalar 0: NumPy runs its vector loop then, 2-3x faster on float32 batches, the same values."""
    return np.maximum(x, np.zeros(x.shape[1:] if x.ndim > 1 else x.shape, x.dtype))


relu_p = Primitive(
    "relu", _relu_forward,
    lambda xp, g, y, x: g * ~(y <= 0),   # not (y > 0): a NaN passes g on, as in PyTorch
    jvp=(lambda xp, dx, y, x: dx * ~(y <= 0),))

leaky_relu_p = Primitive(
    "leaky_relu", lambda x, slope: np.where(x > 0, x, x * slope),
    lambda xp, g, y, x, slope: xp.where(x > 0, g, g * slope),
    jvp=(lambda xp, dx, y, x, slope: xp.where(x > 0, dx, dx * slope),))


elu_p = Primitive(
    "elu",
    lambda x, alpha: np.where(x > 0, x, np.expm1(np.minimum(x, 0)) * alpha).astype(x.dtype, copy=False),
    lambda xp, g, y, x, alpha: xp.where(x > 0, g, g * (xp.exp(xp.where(x > 0, 0.0, x)) * alpha)),
    jvp=(lambda xp, dx, y, x, alpha: xp.where(x > 0, dx, dx * (xp.exp(xp.where(x > 0, 0.0, x)) * alpha)),))


def _sigmoid(x):
    """1 / (1 + e^-x) without overflow: uses e^-|x| on both sides of 0."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid_p = Primitive("sigmoid", _sigmoid, lambda xp, g, y, x: g * (y * (1 - y)),
                      jvp=(lambda xp, dx, y, x: dx * (y * (1 - y)),))
tanh_p = Primitive("tanh", np.tanh, lambda xp, g, y, x: g * (1 - y * y),
                   jvp=(lambda xp, dx, y, x: dx * (1 - y * y),))


def _silu_slope(xp, x):
    s = xp.sigmoid(x)
    return s * (x * (1 - s) + 1)


silu_p = Primitive("silu", lambda x: x * _sigmoid(x),
                   lambda xp, g, y, x: g * _silu_slope(xp, x),
                   jvp=(lambda xp, dx, y, x: dx * _silu_slope(xp, x),))

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _gelu_slope(xp, x):
    cdf = (xp.erf(x * _SQRT_HALF) + 1) * 0.5
    pdf = xp.exp(x * x * -0.5) * _INV_SQRT_2PI
    return cdf + x * pdf


gelu_p = Primitive(
    "gelu", lambda x: x * (B.erf(x * _SQRT_HALF) + 1) * 0.5,
    lambda xp, g, y, x: g * _gelu_slope(xp, x),
    jvp=(lambda xp, dx, y, x: dx * _gelu_slope(xp, x),))


def _gelu_tanh_forward(x):
    return x * 0.5 * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))


def _gelu_tanh_slope(xp, x):
    t = xp.tanh((x + x * x * x * 0.044715) * _SQRT_2_OVER_PI)
    du = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
    return (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * du


gelu_tanh_p = Primitive("gelu", _gelu_tanh_forward,
                        lambda xp, g, y, x: g * _gelu_tanh_slope(xp, x),
                        jvp=(lambda xp, dx, y, x: dx * _gelu_tanh_slope(xp, x),))


def _softplus_forward(x, beta, threshold):
    bx = x * beta
    soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    return np.where(bx > threshold, x, soft)


softplus_p = Primitive(
    "softplus", _softplus_forward,
    lambda xp, g, y, x, beta, threshold: xp.where(x * beta > threshold, g, g * xp.sigmoid(x * beta)),
    jvp=(lambda xp, dx, y, x, beta, threshold:
         xp.where(x * beta > threshold, dx, dx * xp.sigmoid(x * beta)),))


def _softmax_forward(x, axis):
    shifted = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf))
    return shifted / np.add.reduce(shifted, axis=axis, keepdims=True)


softmax_p = Primitive(
    "softmax", _softmax_forward,
    lambda xp, g, y, x, axis: y * (g - (g * y).sum(axis=axis, keepdims=True)),
    jvp=(lambda xp, dx, y, x, axis: y * (dx - (dx * y).sum(axis=axis, keepdims=True)),))


def _log_softmax_forward(x, axis):
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


log_softmax_p = Primitive(
    "log_softmax", _log_softmax_forward,
    lambda xp, g, y, x, axis: g - xp.exp(y) * g.sum(axis=axis, keepdims=True),
    jvp=(lambda xp, dx, y, x, axis: dx - (xp.exp(y) * dx).sum(axis=axis, keepdims=True),))


def _logsumexp_forward(x, axes, keepdims):
    peak = np.maximum.reduce(x, axis=axes, keepdims=True, initial=-np.inf)   # over nothing: -inf
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.add.reduce(np.exp(x - peak), axis=axes, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axes)


def _logsumexp_vjp(xp, g, y, x, axes, keepdims):
    shape = kept_shape(x.shape, axes)
    return g.reshape(shape) * xp.exp(x - y.reshape(shape))


def _logsumexp_jvp(xp, dx, y, x, axes, keepdims):
    weights = xp.exp(x - y.reshape(kept_shape(x.shape, axes)))   # softmax(x) over the axes
    return (weights * dx).sum(axis=axes, keepdims=keepdims)


logsumexp_p = Primitive("logsumexp", _logsumexp_forward, _logsumexp_vjp, jvp=(_logsumexp_jvp,))


# --- the functions users call ---------------------------------------------------------------
def relu(x: Tensor) -> Tensor:
    return apply(relu_p, (x,), {})


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply(leaky_relu_p, (x,), {"slope": float(negative_slope)})


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return apply(elu_p, (as_float(x),), {"alpha": float(alpha)})


def sigmoid(x: Tensor) -> Tensor:
    return apply(sigmoid_p, (as_float(x),), {})


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish), one node."""
    return apply(silu_p, (as_float(x),), {})


def tanh(x: Tensor) -> Tensor:
    return apply(tanh_p, (as_float(x),), {})


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(gelu_p if approximate == "none" else gelu_tanh_p, (as_float(x),), {})


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return apply(softplus_p, (as_float(x),), {"beta": float(beta), "threshold": float(threshold)})


def softmax(x: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return apply(softmax_p, (as_float(x),), {"axis": normalize_dim(dim if axis is None else axis, x.ndim)})


def log_softmax(x: Tensor, dim: int = -1, *, axis: int | None = None) -> Tensor:
    axis = normalize_dim(dim if axis is None else axis, x.ndim)
    return apply(log_softmax_p, (as_float(x),), {"axis": axis})


def logsumexp(x: Tensor, dim: Dims | None = None, keepdim: bool = False, *, axis: Dims | None = None,
              keepdims: bool | None = None) -> Tensor:
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(logsumexp_p, (as_float(x),), {"axes": axes, "keepdims": keep})
