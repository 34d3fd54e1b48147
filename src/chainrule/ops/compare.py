"""Comparisons and logic: they return bool tensors and carry no gradient (their derivative is 0
almost everywhere), so they compute on the arrays directly and record nothing."""

from __future__ import annotations

from ..backend import np
from ..errors import ShapeError
from ..tensor import Tensor
from .operands import operands


def _compare(function, name):
    def compare(a, b) -> Tensor:
        a, b = operands(a, b)
        try:
            return Tensor._wrap(np.asarray(function(a._data, b._data)))
        except ValueError as err:
            raise ShapeError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast: {err}") from None

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` as a bool tensor (no gradient)."
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


def logical_not(x: Tensor) -> Tensor:
    return Tensor._wrap(np.logical_not(x._data))


def bitwise_and(a, b) -> Tensor:
    a, b = operands(a, b)
    return Tensor._wrap(np.asarray(a._data & b._data))


def bitwise_or(a, b) -> Tensor:
    a, b = operands(a, b)
    return Tensor._wrap(np.asarray(a._data | b._data))


def invert(x: Tensor) -> Tensor:
    return Tensor._wrap(~x._data)


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and values."""
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol))
