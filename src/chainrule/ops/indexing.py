"""Indexing and joining: pick values out, or glue tensors together; VJPs put g back in place.
All of them are linear in the tensors, so forward mode moves the tangents as the values move.

    y = x[index]            dL/dx = zeros(x.shape) with g added at index (repeated indices add up)
                            dy = dx[index]
    y = scatter(v, index)   (the VJP of indexing as an op, so it too can be differentiated)
                            dy = scatter(dv, index)
    y = cat([a, b], d)      dL/da, dL/db = g cut into the pieces a and b came from along d
                            dy = cat([da, db], d)        (zeros for a piece without a tangent)
    y = pad(x, widths)      dL/dx = g with the padding cut off
                            dy = pad(dx, widths) with zeros (the padding value is a constant)
    y = x with y[index] = v dL/dx = g with 0 at index      dL/dv = g[index]   (x[index] = v as an op)
                            dy = dx with dy[index] = dv  (zeros for a tensor without a tangent)
Built from those: stack, split, chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .operands import normalize_dim
from .shape import unsqueeze

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import Index


def is_advanced(index: tuple) -> bool:
    """True when an integer array is in the index, so positions can repeat."""
    return any(isinstance(item, np.ndarray) and item.dtype.kind in "iu" for item in index)


def scatter_add_array(values, shape, index):
    """zeros(shape) with ``values`` added at ``index`` (np.add.at when positions can repeat)."""
    out = np.zeros(shape, dtype=values.dtype)
    if len(index) == 1 and is_advanced(index) and out.ndim:
        _add_rows(out, index[0], values)
    elif is_advanced(index):
        np.add.at(out, index, values)
    else:
        out[index] = values
    return out


def _add_rows(out, rows, values):
    """out[rows[k]] += values[k] for every k, repeated rows adding up (the gradient of an
    embedding or of x[indices]): the rows sorted once, each run of equal rows summed by
    np.add.reduceat. Same sums as np.add.at, which is 5-20x slower here."""
    rows = rows.reshape(-1)
    if rows.size == 0:
        return
    rows = np.where(rows < 0, rows + out.shape[0], rows)   # -1 and n-1 are one row
    values = values.reshape((rows.size,) + out.shape[1:])
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)


def _along_axis_index(index, axis):
    grid = list(np.ix_(*[np.arange(size) for size in index.shape]))
    grid[axis] = index
    return tuple(grid)


def scatter_add_along_array(values, shape, axis, index):
    """The adjoint of take_along_axis: ``out[.., index[..i..], ..] += values[..i..]``."""
    out = np.zeros(shape, dtype=values.dtype)
    np.add.at(out, _along_axis_index(index, axis), values)
    return out


getitem_p = Primitive(
    "index", lambda x, index: x[index],
    lambda xp, g, y, x, index: xp.scatter_add(g, x.shape, index),
    jvp=LINEAR)

scatter_add_p = Primitive(
    "index_put", scatter_add_array,
    lambda xp, g, y, values, shape, index: g[index],
    jvp=LINEAR)

scatter_add_along_p = Primitive(
    "scatter_add", scatter_add_along_array,
    lambda xp, g, y, values, shape, axis, index: xp.take_along_axis(g, index, axis),
    jvp=LINEAR)


def _setitem_forward(x, v, index):
    out = x.copy()
    out[index] = v
    return out


def _outside(g, index):
    """1 everywhere but at ``index`` (what x[index] = v leaves of x)."""
    keep = np.ones(g.shape, dtype=bool)
    keep[index] = False
    return keep


setitem_p = Primitive(
    "setitem", _setitem_forward,
    lambda xp, g, y, x, v, index: g * _outside(g, index),
    lambda xp, g, y, x, v, index: g[index],
    jvp=LINEAR)


def _cat_vjp(xp, g, y, inputs, needs, axis):
    grads, start = [], 0
    for x, need in zip(inputs, needs):
        stop = start + x.shape[axis]
        grads.append(g[(slice(None),) * axis + (slice(start, stop),)] if need else None)
        start = stop
    return grads


cat_p = Primitive("cat", lambda *arrays, axis: np.concatenate(arrays, axis=axis), vjp_all=_cat_vjp,
                  jvp=LINEAR)


def _unpad_vjp(xp, g, y, x, widths, value):
    return g[tuple(slice(before, before + size) for (before, _), size in zip(widths, x.shape))]


pad_p: Primitive = Primitive(
    "pad", lambda x, widths, value: np.pad(x, widths, mode="constant", constant_values=value),
    _unpad_vjp,
    jvp=(lambda xp, dx, y, x, widths, value: xp.call(pad_p, dx, widths=widths, value=0.0),))


# --- the functions users call ---------------------------------------------------------------
def normalize_index(index) -> tuple:
    """Turn Tensors and lists inside an index into arrays; reject float indices."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype.kind not in "iub":
            raise DTypeError(f"index: tensors used as indices must be integer or bool, got {item.dtype}")
        out.append(item)
    return tuple(out)


def getitem(x: Tensor, index: Index) -> Tensor:
    """x[index]. A basic index (ints, slices) gives a view of x's values, as in PyTorch -- even for
    one element: ``x[0, 2]`` is indexed as ``x[0, 2, ...]``, NumPy's 0-d view, not a copied scalar,
    so ``v[0].add_(1)`` outside a graph changes v."""
    index = normalize_index(index)
    if not any(item is Ellipsis or isinstance(item, np.ndarray) for item in index):
        index = index + (Ellipsis,)
    return apply(getitem_p, (x,), {"index": index})


def setitem(x: Tensor, index: Index, value: Tensor) -> Tensor:
    """A new tensor: ``x`` with ``value`` written at ``index`` (what ``x[index] = value`` records)."""
    return apply(setitem_p, (x, value), {"index": normalize_index(index)})


def scatter_add(values: Tensor, shape: Sequence[int], index: Index) -> Tensor:
    """zeros(shape) with ``values`` added at ``index`` (the adjoint of ``x[index]``)."""
    return apply(scatter_add_p, (values,), {"shape": tuple(shape), "index": normalize_index(index)})


def scatter_add_along(values: Tensor, shape, axis: int, index) -> Tensor:
    return apply(scatter_add_along_p, (values,), {"shape": tuple(shape), "axis": axis, "index": index})


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    tensors = tuple(tensors)
    if not tensors:
        raise ShapeError("cat: needs at least one tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    dim = normalize_dim(dim if axis is None else axis, first.ndim)
    def others(shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape[:dim] + shape[dim + 1:]

    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or others(t.shape) != others(first.shape):
            shapes = ", ".join(str(s.shape) for s in tensors)
            raise ShapeError(f"cat: tensor {i} does not fit along dim {dim}: shapes {shapes}")
    return apply(cat_p, tensors, {"axis": dim})


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    tensors = tuple(tensors)
    if not tensors:
        raise ShapeError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    dim = normalize_dim(dim if axis is None else axis, tensors[0].ndim + 1)
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``x`` along ``dim``: of size ``split_size`` each (last smaller), or of the given sizes."""
    dim = normalize_dim(dim, x.ndim)
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ShapeError(f"split: split size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, length - s) for s in range(0, length, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ShapeError(f"split: sizes {sizes} do not add up to {length} (dim {dim} of shape {x.shape})")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(getitem(x, (slice(None),) * dim + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    length = x.shape[normalize_dim(dim, x.ndim)]
    return split(x, max(1, -(-length // chunks)), dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's F.pad: ``pad`` lists (before, after) pairs starting from the LAST dim."""
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: {pad} must hold (before, after) pairs for at most {x.ndim} dims")
    if any(p < 0 for p in pad):
        raise ShapeError(f"pad: negative padding {pad} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return apply(pad_p, (x,), {"widths": tuple(widths), "value": value})
