"""Sorting and order statistics. Each picks values out of x by an order computed on the values
(a permutation, or one index per slice), so the values are ``gather(x, dim, indices)`` and the
gradient is gather's: g added back at the chosen indices.

    (values, indices) = sort(x, dim)         values = gather(x, dim, argsort(x, dim))
    (values, indices) = topk(x, k, dim)      the first k of that order
    (values, indices) = kthvalue(x, k, dim)  the k-th smallest (1-based)
    (values, indices) = median(x, dim)       the lower median: the ((n - 1) // 2 + 1)-th smallest
                                             (NaN if the slice holds one; nanmedian skips NaNs)
    (values, indices) = mode(x, dim)         the most frequent value (the smallest on ties), at its
                                             last occurrence, as PyTorch
    dL/dx = g scattered to the indices (every other entry gets 0); forward mode: dy = gather(dx, ...)
    y = median(x) (all elements, no dim): dL/dx = g [x = y] / #ties, shared evenly by every element
                                          equal to the median (NaN ones when y is NaN), as PyTorch
                                          dy = sum(dx [x = y]) / #ties

No gradient: argsort, unique, unique_consecutive (their results are indices or a new set of values).
Sorting is stable; descending order keeps equal elements in their original order and puts NaN
first (ascending puts NaN last), as PyTorch.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, overload

from ..backend import np
from ..errors import ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .arguments import dim_of
from .shape import gather, reshape, squeeze

if TYPE_CHECKING:
    from typing import Literal, NamedTuple


if TYPE_CHECKING:  # the fields' types, for type checkers; at run time a plain namedtuple
    class SortResult(NamedTuple):
        values: Tensor
        indices: Tensor

    class TopkResult(NamedTuple):
        values: Tensor
        indices: Tensor

    class ValuesIndices(NamedTuple):
        """(values, indices) of kthvalue, median and mode along a dim."""

        values: Tensor
        indices: Tensor
else:
    SortResult = namedtuple("SortResult", ["values", "indices"])
    TopkResult = namedtuple("TopkResult", ["values", "indices"])
    ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """A stable argsort along ``axis``; descending keeps ties in their original order."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    reverse = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return data.shape[axis] - 1 - np.flip(reverse, axis)


def _picked(x: Tensor, axis: int, indices: np.ndarray, keepdim: bool = True) -> tuple:
    indices = indices.astype(np.int64)
    values = gather(x, axis, indices)
    if not keepdim:
        values, indices = squeeze(values, axis), np.squeeze(indices, axis=axis)
    return values, Tensor._wrap(indices)


def _as_vector(x: Tensor):
    """A 0-d tensor is treated as one element along dim 0, as PyTorch does."""
    return (reshape(x, 1), True) if x.ndim == 0 else (x, False)


def _scalar_back(result, was_scalar):
    if not was_scalar:
        return result
    values, indices = result
    return type(result)(reshape(values, ()), Tensor._wrap(indices._data.reshape(())))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """x sorted along ``dim``, as (values, indices) with values = x gathered at indices (torch.sort).
    Always stable here; NaN sorts as the largest value."""
    axis = dim_of("sort", x, dim)
    x, scalar = _as_vector(x)
    order = _order(x._data, axis, descending)
    return _scalar_back(SortResult(*_picked(x, axis, order)), scalar)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort x along ``dim`` (torch.argsort; stable); no gradient."""
    axis = dim_of("argsort", x, dim)
    if x.ndim == 0:
        return Tensor._wrap(np.zeros((), np.int64))
    return Tensor._wrap(_order(x._data, axis, descending).astype(np.int64))


def msort(x: Tensor) -> Tensor:
    """x sorted along dim 0 (torch.msort)."""
    return sort(x, 0).values


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopkResult:  # noqa: A002
    """The k largest (or with ``largest=False`` smallest) entries along ``dim`` as (values, indices),
    in order (torch.topk; the order is kept even when ``sorted=False``)."""
    axis = dim_of("topk", x, dim)
    x, scalar = _as_vector(x)
    size = x.shape[axis]
    if not 0 <= int(k) <= size:
        raise ShapeError(f"topk: k ({k}) is out of range for dim {axis} of size {size} "
                         f"(shape {tuple(x.shape)})")
    order = _order(x._data, axis, largest)
    chosen = np.take(order, np.arange(int(k)), axis=axis)
    return _scalar_back(TopkResult(*_picked(x, axis, chosen)), scalar)


def _kth(op: str, x: Tensor, k, dim, keepdim) -> ValuesIndices:
    axis = dim_of(op, x, dim)
    x, scalar = _as_vector(x)
    size = x.shape[axis]
    if not 1 <= int(k) <= size:
        raise ShapeError(f"{op}: k ({k}) must be in [1, {size}] for dim {axis} (shape {tuple(x.shape)})")
    order = _order(x._data, axis, False)
    chosen = np.take(order, [int(k) - 1], axis=axis)
    return _scalar_back(ValuesIndices(*_picked(x, axis, chosen, keepdim or scalar)), scalar)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The k-th smallest entry (k from 1) along ``dim`` as (values, indices) (torch.kthvalue)."""
    return _kth("kthvalue", x, k, dim, keepdim)


def _median_index(data: np.ndarray, axis: int, skip_nan: bool) -> np.ndarray:
    """The lower median's index along ``axis`` (keeping the dim); NaN handled as PyTorch does."""
    order = np.argsort(data, axis=axis, kind="stable")  # NaN last
    if data.dtype.kind != "f":
        count = np.full(np.delete(data.shape, axis), data.shape[axis])
    else:
        count = np.sum(~np.isnan(data), axis=axis)
    if skip_nan:
        position = np.maximum(count - 1, 0) // 2
    else:
        position = np.where(count < data.shape[axis], count, (data.shape[axis] - 1) // 2)  # first NaN
    return np.take_along_axis(order, np.expand_dims(position, axis), axis=axis)


def _shared_by_ties(xp, g, y, x, index):
    ties = (x == y) | ((x != x) & (y != y))  # NaN equals NaN here
    return g * ties / ties.sum()


def _mean_of_ties(xp, dx, y, x, index):
    ties = (x == y) | ((x != x) & (y != y))
    return (dx * ties).sum() / ties.sum()


median_all_p = Primitive("median", lambda x, index: x.reshape(-1)[index], _shared_by_ties,
                         jvp=(_mean_of_ties,))


def _median(op: str, x: Tensor, dim, keepdim, skip_nan):
    if dim is None:
        if x.numel() == 0:
            raise ShapeError(f"{op}: the median of an empty tensor (shape {tuple(x.shape)}) is undefined")
        flat_index = int(_median_index(x._data.reshape(-1), 0, skip_nan)[0])
        return apply(median_all_p, (x,), {"index": flat_index})
    axis = dim_of(op, x, dim)
    x, scalar = _as_vector(x)
    if x.shape[axis] == 0:
        raise ShapeError(f"{op}: dim {axis} of shape {tuple(x.shape)} is empty")
    index = _median_index(x._data, axis, skip_nan)
    return _scalar_back(ValuesIndices(*_picked(x, axis, index, keepdim or scalar)), scalar)


@overload
def median(x: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def median(x: Tensor, dim: int, keepdim: bool = False) -> ValuesIndices: ...


def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The lower median (the smaller of the two middle values for an even count; torch.median):
    of all elements when dim is None, else (values, indices) along ``dim``. NaN propagates."""
    return _median("median", x, dim, keepdim, skip_nan=False)


@overload
def nanmedian(x: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def nanmedian(x: Tensor, dim: int, keepdim: bool = False) -> ValuesIndices: ...


def nanmedian(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """median ignoring NaN (NaN only when a slice is all NaN; torch.nanmedian)."""
    return _median("nanmedian", x, dim, keepdim, skip_nan=True)


def _mode_index(row: np.ndarray) -> int:
    order = np.argsort(row, kind="stable")
    ordered = row[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, row.size])
    best = int(np.argmax(counts))  # the first (smallest) value among the most frequent
    return int(order[starts[best] + counts[best] - 1])  # stable order: its last occurrence


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` (the smallest on ties) and the index of its last
    occurrence, as (values, indices) (torch.mode)."""
    axis = dim_of("mode", x, dim)
    x, scalar = _as_vector(x)
    if x.shape[axis] == 0:
        raise ShapeError(f"mode: dim {axis} of shape {tuple(x.shape)} is empty")
    rows = np.moveaxis(x._data, axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    index = np.array([_mode_index(row) for row in flat], dtype=np.int64).reshape(rows.shape[:-1])
    return _scalar_back(ValuesIndices(*_picked(x, axis, np.expand_dims(index, axis), keepdim or scalar)),
                        scalar)


def _unique_results(values, inverse, counts, return_inverse, return_counts):
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@overload
def unique(x: Tensor, sorted: bool = True, return_inverse: Literal[False] = False,  # noqa: A002
           return_counts: Literal[False] = False, dim: int | None = None) -> Tensor: ...
@overload
def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Tensor | tuple[Tensor, ...]: ...


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """The distinct values (or distinct slices along ``dim``), sorted (torch.unique); with
    ``return_inverse`` also where each element went, with ``return_counts`` how often each occurs."""
    data = x._data
    axis = None if dim is None else dim_of("unique", x, dim)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(data.shape) if axis is None else inverse.reshape(-1)
    return _unique_results(values, inverse, counts, return_inverse, return_counts)


@overload
def unique_consecutive(x: Tensor, return_inverse: Literal[False] = False,
                       return_counts: Literal[False] = False, dim: int | None = None) -> Tensor: ...
@overload
def unique_consecutive(x: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Tensor | tuple[Tensor, ...]: ...


def unique_consecutive(x: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """Collapse each run of equal consecutive values (or slices along ``dim``) to one value
    (torch.unique_consecutive)."""
    data = x._data
    if dim is None:
        flat = data.reshape(-1)
        starts = np.r_[True, flat[1:] != flat[:-1]] if flat.size else np.zeros(0, bool)
        values, shape = flat[starts], data.shape
    else:
        axis = dim_of("unique_consecutive", x, dim)
        moved = np.moveaxis(data, axis, 0)
        changed = (moved[1:] != moved[:-1]).reshape(max(moved.shape[0] - 1, 0), -1).any(axis=1)
        starts = np.r_[True, changed] if moved.shape[0] else np.zeros(0, bool)
        values, shape = np.moveaxis(moved[starts], 0, axis), (moved.shape[0],)
    inverse = (np.cumsum(starts) - 1).reshape(shape)
    counts = np.diff(np.r_[np.flatnonzero(starts), starts.size])
    return _unique_results(values, inverse, counts, return_inverse, return_counts)
