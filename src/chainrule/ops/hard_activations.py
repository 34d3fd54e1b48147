"""The piecewise-linear ("hard") activations, with PyTorch's gradients at the kinks.

    y = hardtanh(x, lo, hi)   = clip(x, lo, hi)             dL/dx = g * [lo < x < hi]
                                                            dy = [lo < x < hi] dx
    y = hardsigmoid(x)        = clip(x / 6 + 1/2, 0, 1)     dL/dx = g / 6 * [-3 < x < 3]
                                                            dy = [-3 < x < 3] dx / 6
    y = hardswish(x)          = x * hardsigmoid(x)          dL/dx = g * s(x),  dy = s(x) dx,  with
                                                            s(x) = 0            for x <= -3,
                                                                   x / 3 + 1/2  for -3 < x < 3,
                                                                   1            for x >= 3

relu6 is hardtanh(x, 0, 6). At a kink the gradient is the value PyTorch gives (0 at both ends
of hardtanh, unlike clamp's, which passes the gradient at the bounds). The VJPs use ``where`` on
a condition computed from x's values (a constant: it is piecewise), and keep hardswish's x / 3
term differentiable, so second derivatives come out right too. The JVPs (forward mode, dx the
tangent of x, dy that of y) multiply dx by the same slopes: the Jacobians are diagonal.
"""

from __future__ import annotations

from ..backend import np
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .unary import as_float


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _between(x, low, high):
    """The constant condition low < x < high, as an array (x may be a Tensor under create_graph)."""
    return (_array(x) > low) & (_array(x) < high)


hardtanh_p = Primitive(
    "hardtanh", lambda x, low, high: np.clip(x, low, high),
    lambda xp, g, y, x, low, high: xp.where(_between(x, low, high), g, 0.0),
    jvp=(lambda xp, dx, y, x, low, high: xp.where(_between(x, low, high), dx, 0.0),))


def _hardsigmoid_forward(x):
    return np.clip(x / 6 + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)


hardsigmoid_p = Primitive(
    "hardsigmoid", _hardsigmoid_forward,
    lambda xp, g, y, x: xp.where(_between(x, -3, 3), g / 6, 0.0),
    jvp=(lambda xp, dx, y, x: xp.where(_between(x, -3, 3), dx / 6, 0.0),))


def _hardswish_forward(x):
    return (x * np.clip(x / 6 + 0.5, 0.0, 1.0)).astype(x.dtype, copy=False)


def _hardswish_times_slope(xp, x, g):
    """g * s(x), the slope s of the table (x / 3 + 1/2 keeps its x-dependence: 2nd order)."""
    slope = xp.where(_array(x) < 3, x / 3 + 0.5, 1.0)
    return xp.where(_array(x) <= -3, 0.0, g * slope)


hardswish_p = Primitive("hardswish", _hardswish_forward,
                        lambda xp, g, y, x: _hardswish_times_slope(xp, x, g),
                        jvp=(lambda xp, dx, y, x: _hardswish_times_slope(xp, x, dx),))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return apply(hardtanh_p, (as_float(x),), {"low": float(min_val), "high": float(max_val)})


def relu6(x: Tensor) -> Tensor:
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    return apply(hardsigmoid_p, (as_float(x),), {})


def hardswish(x: Tensor) -> Tensor:
    return apply(hardswish_p, (as_float(x),), {})
