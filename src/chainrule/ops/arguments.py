"""Checking what users pass to the ops of sorting, scans, matrices, rearrange and histograms.

Each helper names the op and the tensor's shape in its error, so that a wrong dim or index
says where it came from instead of surfacing as a NumPy traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..primitive import IndexOutOfRange
from ..tensor import Tensor

if TYPE_CHECKING:
    from .._typing import Dims


def dim_of(op: str, x: Tensor, dim, ndim: int | None = None) -> int:
    """``dim`` in range(ndim) (ndim defaults to x's; a 0-d tensor accepts dim 0 and -1, as PyTorch)."""
    ndim = x.ndim if ndim is None else ndim
    try:
        dim = int(dim)
    except (TypeError, ValueError):
        raise ArgumentError(f"{op}: dim must be an integer, got {dim!r}") from None
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor of shape {tuple(x.shape)} "
                         f"(expected a dim in [{-bound}, {bound - 1}])")
    return dim % bound


def dims_of(op: str, x: Tensor, dims: Dims, ndim: int | None = None) -> tuple[int, ...]:
    """A tuple of distinct dims in range (an int or a sequence of ints)."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    out = tuple(dim_of(op, x, d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: dims {dims} repeat a dim (tensor of shape {tuple(x.shape)})")
    return out


def integer_array(op: str, index, what: str = "index") -> np.ndarray:
    """An integer index (Tensor, array or list) as an int64 ndarray; floats are refused."""
    array = np.asarray(index._data if isinstance(index, Tensor) else index)
    if array.size == 0 and array.dtype.kind == "f":  # [] arrives as float64
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {what} must be an integer tensor, got {array.dtype} of shape {array.shape}")
    return array.astype(np.int64, copy=False)


def check_index_range(op: str, index: np.ndarray, size: int, x: Tensor, dim: int) -> np.ndarray:
    """Negative indices wrapped; anything outside [-size, size) is an error naming the op."""
    if index.size and (index.min() < -size or index.max() >= size):
        bad = index[(index < -size) | (index >= size)][0]
        raise IndexOutOfRange(f"{op}: index {int(bad)} is out of range for dim {dim} of size {size} "
                         f"(tensor of shape {tuple(x.shape)})")
    return np.where(index < 0, index + size, index)


def float_only(op: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point tensor, got {x.dtype} of shape {tuple(x.shape)} "
                         "(use .float() or .double())")


def sizes_arg(op: str, sizes) -> tuple[int, ...]:
    """Accept f(2, 3), f((2, 3)) and f([2, 3]) for a list of sizes or dims."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Tensor)):
        sizes = sizes[0]
        if isinstance(sizes, Tensor):
            sizes = sizes.tolist()
    try:
        return tuple(int(s) for s in sizes)
    except (TypeError, ValueError):
        raise ArgumentError(f"{op}: sizes must be integers, got {sizes!r}") from None
