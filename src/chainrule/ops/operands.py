"""Turning what users pass (Python numbers, arrays, dim=/axis= spellings) into what primitives take."""

from __future__ import annotations

from .. import backend as B
from ..backend import np
from ..errors import ShapeError
from ..tensor import Tensor


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
    except (TypeError, ValueError):
        raise TypeError(f"cannot combine a tensor with a {type(value).__name__}: {value!r}") from None


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors, with PyTorch's promotion of int with float32."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"expected a Tensor operand, got {type(a).__name__} and {type(b).__name__}")
        a = constant(a, b)
    elif not isinstance(b, Tensor):
        b = constant(b, a)
    da, db = a._data.dtype, b._data.dtype
    if da is not db and da != db and (da.kind == "f") != (db.kind == "f"):
        # int/bool with float: the int side takes the float side's dtype (numpy would pick float64)
        if da.kind == "f":
            b = Tensor._wrap(b._data.astype(da))
        else:
            a = Tensor._wrap(a._data.astype(db))
    return a, b


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


def kept_shape(shape: tuple, axes) -> tuple:
    """The shape a reduction over ``axes`` leaves with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def shape_args(shape) -> tuple:
    """Accept reshape(2, 3), reshape((2, 3)) and reshape([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)
