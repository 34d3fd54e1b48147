"""Reductions along dims (``dim``/``keepdim``, or NumPy's ``axis``/``keepdims``).

g is dL/dy; "g spread" means g reshaped to keep the reduced dims and broadcast back over x.

    y = sum(x)           dL/dx = g spread
    y = mean(x)          dL/dx = g spread / N                      N = elements per output
    y = amax(x)          dL/dx = g spread * [x = y] / #ties        (ties share evenly, as PyTorch)
    y = max(x, dim)      (values, indices); dL/dx = g at the index chosen (as PyTorch's max(dim))
    y = var(x)           dL/dx = g spread * 2 (x - mean) / (N - correction)
    y = std(x)           = sqrt(var(x))
"""

from __future__ import annotations

from collections import namedtuple

from ..autograd import Primitive, apply
from ..backend import np
from ..tensor import Tensor
from .arithmetic import maximum, minimum
from .operands import kept_shape, normalize_dim, reduce_args
from .shape import gather, squeeze
from .unary import sqrt


def _spread(xp, g, x, axes):
    return xp.broadcast_to(g.reshape(kept_shape(x.shape, axes)), x.shape)


sum_p = Primitive(
    "sum", lambda x, axes, keepdims: np.sum(x, axis=axes, keepdims=keepdims),
    lambda xp, g, y, x, axes, keepdims: _spread(xp, g, x, axes))

mean_p = Primitive(
    "mean", lambda x, axes, keepdims: np.mean(x, axis=axes, keepdims=keepdims),
    lambda xp, g, y, x, axes, keepdims: _spread(xp, g * (xp.numel(y) / xp.numel(x)), x, axes))


def _extreme_vjp(xp, g, y, x, axes, keepdims):
    shape = kept_shape(x.shape, axes)
    chosen = x == y.reshape(shape)
    return g.reshape(shape) * chosen / chosen.sum(axis=axes, keepdims=True)


amax_p = Primitive("amax", lambda x, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims), _extreme_vjp)
amin_p = Primitive("amin", lambda x, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims), _extreme_vjp)


def _var_vjp(xp, g, y, x, axes, keepdims, correction):
    shape = kept_shape(x.shape, axes)
    count = xp.numel(x) / xp.numel(y)
    centred = x - x.mean(axis=axes, keepdims=True)
    return g.reshape(shape) * centred * (2.0 / (count - correction))


var_p = Primitive(
    "var", lambda x, axes, keepdims, correction: np.var(x, axis=axes, ddof=correction, keepdims=keepdims),
    _var_vjp)


# --- the functions users call ---------------------------------------------------------------
def sum(x: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None) -> Tensor:  # noqa: A001
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(sum_p, (x,), {"axes": axes, "keepdims": keep})


def mean(x: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    if x._data.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating-point tensor, got {x._data.dtype} (use .float())")
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(mean_p, (x,), {"axes": axes, "keepdims": keep})


def amax(x: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(amax_p, (x,), {"axes": axes, "keepdims": keep})


def amin(x: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(amin_p, (x,), {"axes": axes, "keepdims": keep})


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _select(x, dim, keepdim, axis, keepdims, pick, whole):
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if dim is None:
        return whole(x)
    dim = normalize_dim(dim, x.ndim)
    index = pick(x._data, axis=dim, keepdims=True)
    values = gather(x, dim, index)
    if not keepdim:
        values, index = squeeze(values, dim), np.squeeze(index, axis=dim)
    return MaxResult(values, Tensor._wrap(index.astype(np.int64)))


def max(x: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    """max(x) -> the largest value; max(x, dim) -> (values, indices); max(x, other) -> maximum."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _select(x, dim, keepdim, axis, keepdims, np.argmax, amax)


def min(x: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    """min(x) -> the smallest value; min(x, dim) -> (values, indices); min(x, other) -> minimum."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _select(x, dim, keepdim, axis, keepdims, np.argmin, amin)


def _correction(unbiased, correction):
    if correction is not None:
        return int(correction)
    return 1 if unbiased is None or unbiased else 0


def var(x: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    """Variance with Bessel's correction by default (``unbiased=False`` or ``correction=0`` for 1/N)."""
    if isinstance(dim, bool):  # var(x, False): PyTorch's positional unbiased
        dim, unbiased = None, dim
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    params = {"axes": axes, "keepdims": keep, "correction": _correction(unbiased, correction)}
    return apply(var_p, (x,), params)


def std(x: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims))


def argmax(x: Tensor, dim=None, keepdim=False) -> Tensor:
    """Index of the largest value (of the flattened tensor when dim is None); no gradient."""
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmax(x._data), dtype=np.int64))
    index = np.argmax(x._data, axis=normalize_dim(dim, x.ndim), keepdims=keepdim)
    return Tensor._wrap(index.astype(np.int64))


def argmin(x: Tensor, dim=None, keepdim=False) -> Tensor:
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmin(x._data), dtype=np.int64))
    index = np.argmin(x._data, axis=normalize_dim(dim, x.ndim), keepdims=keepdim)
    return Tensor._wrap(index.astype(np.int64))


def all(x: Tensor, dim=None) -> Tensor:  # noqa: A001
    return Tensor._wrap(np.asarray(np.all(x._data, axis=dim)))


def any(x: Tensor, dim=None) -> Tensor:  # noqa: A001
    return Tensor._wrap(np.asarray(np.any(x._data, axis=dim)))

