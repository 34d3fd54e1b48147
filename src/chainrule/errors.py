"""chainrule's exceptions. Every error a user can cause names the op and the shapes/dtypes involved."""

from __future__ import annotations

from collections.abc import Iterable


class ChainruleError(RuntimeError):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError):
    """Shapes that do not fit an op (broadcasting, matmul, reshape, indexing...)."""


class DTypeError(ChainruleError, TypeError):
    """A dtype an op cannot take (gradients of integer tensors, index tensors that are floats...)."""


class ArgumentError(ChainruleError, ValueError, TypeError):
    """An argument an op cannot take: a wrong form (``randint(5, 100)`` without a size tuple), a
    value out of range (a negative size, low >= high), an unknown option. It is also a ValueError
    and a TypeError, so code written for either (or for PyTorch's RuntimeError) catches it."""


class NumberRangeError(ArgumentError, OverflowError):
    """A number that does not fit the dtype it must become (``tensor(2**63)`` as int64)."""


class DeviceError(ChainruleError):
    """A tensor was asked to live on a device other than the CPU (chainrule computes with NumPy)."""


class GraphError(ChainruleError):
    """Misuse of the graph: backward through a freed graph, non-scalar backward, stale saved values."""


class AnomalyError(ChainruleError, FloatingPointError):
    """Raised inside ``detect_anomaly()`` by the first op whose forward or backward makes NaN/Inf."""


class SerializationError(ChainruleError, ValueError):
    """``cr.load`` met a file that is not a valid chainrule save (truncated, corrupt or hostile),
    or ``cr.save`` was given something it cannot store safely."""


def describe(arrays: Iterable[object]) -> str:
    """'(3, 4) float32, (4,) float32' for the arrays (or tensors) an op received."""
    parts = []
    for a in arrays:
        shape = getattr(a, "shape", None)
        dtype = getattr(a, "dtype", None)
        parts.append(f"{tuple(shape)} {dtype}" if shape is not None else repr(a))
    return ", ".join(parts)
