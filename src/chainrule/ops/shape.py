"""Shape changes: they move values around without changing them, so each VJP moves g back,
and each is linear: its JVP moves the tangent the same way, dy = f(dx).

    y = reshape(x, s)        dL/dx = reshape(g, x.shape)                     dy = reshape(dx, s)
    y = permute(x, p)        dL/dx = permute(g, inverse of p)                dy = permute(dx, p)
    y = broadcast_to(x, s)   dL/dx = g summed over the stretched dims (done by the engine)
                                                                             dy = broadcast_to(dx, s)
    y = gather(x, d, i)      y[..i..] = x[..index[..i..]..] along d;  dL/dx = g scattered back, added
                             where an index repeats                          dy = gather(dx, d, i)
Built from those: view, flatten, squeeze, unsqueeze, transpose, swapaxes, T, expand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .operands import normalize_dim, shape_args

if TYPE_CHECKING:
    from .._typing import Dims, IntIndices, Size

reshape_p = Primitive(
    "reshape", lambda x, shape: np.reshape(x, shape),
    lambda xp, g, y, x, shape: g.reshape(x.shape),
    jvp=LINEAR)

permute_p = Primitive(
    "permute", lambda x, axes: np.transpose(x, axes),
    lambda xp, g, y, x, axes: xp.transpose(g, tuple(np.argsort(axes))),
    jvp=LINEAR)

broadcast_to_p = Primitive(
    "expand", lambda x, shape: np.broadcast_to(x, shape),
    lambda xp, g, y, x, shape: g,
    jvp=LINEAR)

gather_p = Primitive(
    "gather", lambda x, axis, index: np.take_along_axis(x, index, axis),
    lambda xp, g, y, x, axis, index: xp.scatter_add_along(g, x.shape, axis, index),
    jvp=LINEAR)


# --- the functions users call ---------------------------------------------------------------
def reshape(x: Tensor, *shape: Size) -> Tensor:
    shape = shape_args(shape)
    if shape == x._data.shape:
        return x
    return apply(reshape_p, (x,), {"shape": shape})


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x: Tensor, dim: Dims | None = None) -> Tensor:
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    dims = {normalize_dim(d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    dim = normalize_dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def permute(x: Tensor, *dims: Size) -> Tensor:
    dims = shape_args(dims)
    if len(dims) != x.ndim or sorted(normalize_dim(d, x.ndim) for d in dims) != list(range(x.ndim)):
        raise ShapeError(f"permute: {dims} is not a permutation of the {x.ndim} dims of shape {x.shape}")
    return apply(permute_p, (x,), {"axes": tuple(normalize_dim(d, x.ndim) for d in dims)})


def transpose(x: Tensor, dim0: int = 0, dim1: int = 1) -> Tensor:
    axes = list(range(x.ndim))
    dim0, dim1 = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return apply(permute_p, (x,), {"axes": tuple(axes)})


swapaxes = transpose


def T(x: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """All dims reversed (the matrix transpose for 2-D tensors)."""
    return apply(permute_p, (x,), {"axes": tuple(reversed(range(x.ndim)))})


def broadcast_to(x: Tensor, *shape: Size) -> Tensor:
    shape = shape_args(shape)
    if shape == x._data.shape:
        return x
    return apply(broadcast_to_p, (x,), {"shape": shape})


def expand(x: Tensor, *sizes: Size) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a dim's size."""
    sizes = shape_args(sizes)
    offset = len(sizes) - x.ndim
    if offset < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer dims {sizes}")
    shape = tuple(x.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return broadcast_to(x, other.shape)


def gather(x: Tensor, dim: int, index: IntIndices) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` along ``dim`` (PyTorch's gather)."""
    index = np.asarray(index._data if isinstance(index, Tensor) else index)
    if index.dtype.kind not in "iu":
        raise ArgumentError(f"gather: index must be an integer tensor, got {index.dtype}")
    if index.ndim != x.ndim:
        raise ShapeError(f"gather: index of shape {index.shape} must have as many dims as input {x.shape}")
    return apply(gather_p, (x,), {"axis": normalize_dim(dim, x.ndim), "index": index})


def contiguous(x: Tensor) -> Tensor:
    return x
