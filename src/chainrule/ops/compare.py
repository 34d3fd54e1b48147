"""Comparisons and logic: they return bool tensors and carry no gradient (their derivative is 0
almost everywhere). Each is a primitive without VJPs, applied to its inputs outside the graph (no
node is made), so that a compiled trace records it like any other op and a replay computes the
mask again from the new values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ShapeError
from ..primitive import Primitive
from ..tensor import Tensor
from .operands import operands, outside_graph

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .._typing import Operand


def _compare(function: Callable[..., Any], name: str) -> Callable[[Operand, Operand], Tensor]:
    prim = Primitive(name, lambda a, b: np.asarray(function(a, b)))

    def compare(a: Operand, b: Operand) -> Tensor:
        a, b = operands(a, b)
        try:
            return outside_graph(prim, (a, b))
        except ShapeError as err:
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
bitwise_and = _compare(np.bitwise_and, "bitwise_and")
bitwise_or = _compare(np.bitwise_or, "bitwise_or")
_logical_not_p = Primitive("logical_not", np.logical_not)
_invert_p = Primitive("invert", np.invert)


def logical_not(x: Tensor) -> Tensor:
    return outside_graph(_logical_not_p, (x,))


def invert(x: Tensor) -> Tensor:
    return outside_graph(_invert_p, (x,))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and values."""
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol))
