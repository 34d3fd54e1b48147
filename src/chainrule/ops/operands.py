"""Turning what users pass (Python numbers, arrays, dim=/axis= spellings) into what primitives take."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import DTypeError, NumberRangeError, ShapeError
from ..primitive import apply
from ..tensor import Tensor
from .unary import cast_p

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def constant(value, like: Tensor) -> Tensor:
    """A non-differentiable tensor for a Python number or array used beside ``like``.

    dtype policy: a Python scalar takes the tensor's dtype (float32 stays float32); a float
    scalar beside an integer tensor gives float32, as in PyTorch.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value)
    dtype = like._data.dtype
    if isinstance(value, float) and dtype.kind != "f":
        dtype = B.DEFAULT_FLOAT
    elif isinstance(value, int) and not isinstance(value, bool) and dtype.kind == "b":
        dtype = B.int64
    try:
        return Tensor._wrap(np.asarray(value, dtype=dtype))
    except OverflowError:   # a Python int beyond a narrow int tensor's range wraps, as in PyTorch
        if isinstance(value, int) and -2 ** 63 <= value < 2 ** 63:
            return Tensor._wrap(np.asarray(value, dtype=np.int64).astype(dtype))
        raise NumberRangeError(f"the number {value} does not fit the tensor's dtype {dtype}") from None
    except (TypeError, ValueError):
        raise DTypeError(f"cannot combine a tensor with a {type(value).__name__}: {value!r}") from None


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors of one dtype, promoted as PyTorch promotes.

    Python numbers never upcast a tensor (see ``constant``). Between two tensors the higher
    category wins (bool < integer < float); within a category the wider type wins, except that a
    0-d tensor does not widen a tensor with dimensions (0-d float64 + float32 vector is float32,
    as in PyTorch; NumPy would say float64). An integer meeting a float takes the float's dtype.
    """
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise DTypeError(f"expected a Tensor operand, got {type(a).__name__} and {type(b).__name__}")
        a = constant(a, b)
    elif not isinstance(b, Tensor):
        b = constant(b, a)
    da, db = a._data.dtype, b._data.dtype
    if da is db or da == db:
        return a, b
    target = promote(a, b)
    return cast(a, target), cast(b, target)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(da, db):
    """PyTorch's promote_types: the higher category's type, or the wider of one category."""
    ca, cb = _CATEGORY[da.kind], _CATEGORY[db.kind]
    if ca != cb:
        return da if ca > cb else db
    return np.promote_types(da, db)


def promote(a: Tensor, b: Tensor):
    """The dtype of ``a op b`` (see ``operands``)."""
    da, db = a._data.dtype, b._data.dtype
    if (a._data.ndim == 0) == (b._data.ndim == 0):
        return promote_types(da, db)
    dims, zero = (da, db) if b._data.ndim == 0 else (db, da)
    return promote_types(dims, zero) if _CATEGORY[zero.kind] > _CATEGORY[dims.kind] else dims


def cast(t: Tensor, dtype) -> Tensor:
    """``t`` as ``dtype``: through the differentiable cast when a float gradient must flow back
    (or a forward-mode tangent forward: those live in ``_extra``)."""
    if t._data.dtype == dtype:
        return t
    if dtype.kind == "f" and (t._requires_grad or t._extra is not None):
        return apply(cast_p, (t,), {"dtype": dtype})
    return apply(cast_p, (t.detach() if t._requires_grad else t,), {"dtype": dtype})   # an op: no node


def outside_graph(prim, tensors, params=None) -> Tensor:
    """``prim`` applied to ``tensors`` without recording a node: for ops with no gradient
    (comparisons, argmax...). Still an op, so a compiled trace records it and a replay recomputes it."""
    return apply(prim, tuple(t.detach() if t._requires_grad else t for t in tensors), params or {})


def as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def reduce_args(dim, keepdim, axis, keepdims, ndim):
    """Normalise PyTorch's dim/keepdim and NumPy's axis/keepdims to (axes tuple or None, keepdims)."""
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if dim is None:
        return None, bool(keepdim)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(normalize_dim(d, ndim) for d in dims), bool(keepdim)


def normalize_dim(dim: int, ndim: int) -> int:
    dim = int(dim)
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ShapeError(f"dimension {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % max(ndim, 1)


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over ``axes`` leaves with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def shape_args(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept reshape(2, 3), reshape((2, 3)) and reshape([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)
