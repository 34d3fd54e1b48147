"""Reductions along dims (``dim``/``keepdim``, or NumPy's ``axis``/``keepdims``).

g is dL/dy; "g spread" means g reshaped to keep the reduced dims and broadcast back over x.
dx is x's tangent (forward mode), and "sum" in a JVP is over the reduced dims.

    y = sum(x)           dL/dx = g spread                          dy = sum(dx)       (linear)
    y = mean(x)          dL/dx = g spread / N                      dy = mean(dx)      (linear)
                                                                   N = elements per output
    y = amax(x)          dL/dx = g spread * [x = y] / #ties        (ties share evenly, as PyTorch)
                         dy = sum(dx [x = y]) / #ties              (the mean tangent of the ties)
    y = max(x, dim)      (values, indices); dL/dx = g at the index chosen (as PyTorch's max(dim))
    y = var(x)           dL/dx = g spread * 2 (x - mean) / (N - correction)
                         dy = 2 sum((x - mean) dx) / (N - correction)
    y = std(x)           dL/dx = g spread * (x - mean) / ((N - correction) y)   (0 where y = 0)
                         dy = sum((x - mean) dx) / ((N - correction) y)         (0 where y = 0)
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import TYPE_CHECKING, overload

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .arithmetic import maximum, minimum
from .operands import kept_shape, normalize_dim, outside_graph, reduce_args
from .shape import gather, squeeze

if TYPE_CHECKING:
    from typing import NamedTuple

    from .._typing import Dims, DTypeLike


def _reduced_shape(shape: tuple, axes, keepdims: bool) -> tuple:
    """The shape a reduction over ``axes`` (None: all) leaves."""
    if keepdims:
        return kept_shape(shape, axes)
    return () if axes is None else tuple(n for i, n in enumerate(shape) if i not in axes)


def _count(shape: tuple, axes) -> int:
    """How many values each output of a reduction over ``axes`` (None: all) combines."""
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


def _spread(xp, g, x, axes):
    return xp.broadcast_to(g.reshape(kept_shape(x.shape, axes)), x.shape)


sum_p = Primitive(
    "sum", lambda x, axes, keepdims: np.sum(x, axis=axes, keepdims=keepdims),
    lambda xp, g, y, x, axes, keepdims: _spread(xp, g, x, axes),
    jvp=LINEAR)

def _mean_forward(x, axes, keepdims):
    if x.size == 0:   # the mean of nothing is NaN (PyTorch), without NumPy's warning
        return np.full(_reduced_shape(x.shape, axes, keepdims), np.nan, x.dtype)
    if x.dtype == np.float16:   # accumulate in float32, as np.mean and PyTorch do
        return (np.add.reduce(x, axis=axes, keepdims=keepdims, dtype=np.float32) / _count(x.shape, axes)
                ).astype(np.float16)
    out = np.add.reduce(x, axis=axes, keepdims=keepdims) / x.dtype.type(_count(x.shape, axes))
    if out.dtype.kind == "f" and not np.isfinite(out).all() and np.isfinite(x).all():
        # the sum overflowed although every value is finite: add the values already divided
        out = np.add.reduce(x / x.dtype.type(_count(x.shape, axes)), axis=axes, keepdims=keepdims)
    return out


def _mean_vjp(xp, g, y, x, axes, keepdims):
    if xp.numel(x) == 0:
        return xp.broadcast_to(g.reshape(kept_shape(x.shape, axes)), x.shape)   # an empty gradient
    return _spread(xp, g * (xp.numel(y) / xp.numel(x)), x, axes)


mean_p = Primitive("mean", _mean_forward, _mean_vjp, jvp=LINEAR)


def _extreme_vjp(xp, g, y, x, axes, keepdims):
    shape = kept_shape(x.shape, axes)
    chosen = x == y.reshape(shape)
    return g.reshape(shape) * chosen / chosen.sum(axis=axes, keepdims=True)


def _extreme_jvp(xp, dx, y, x, axes, keepdims):
    chosen = x == y.reshape(kept_shape(x.shape, axes))
    return (dx * chosen).sum(axis=axes, keepdims=keepdims) / chosen.sum(axis=axes, keepdims=keepdims)


def _extreme_all_vjp(xp, g, y, x):
    """max(x) / min(x) of everything: g shared evenly by the values equal to the result -- or by
    the NaNs when the result is NaN (PyTorch's evenly_distribute; amax gives NaN gradients there)."""
    chosen = (x == y) | ((x != x) & (y != y))
    return g * chosen / chosen.sum()


def _extreme_all_jvp(xp, dx, y, x):
    chosen = (x == y) | ((x != x) & (y != y))
    return (dx * chosen).sum() / chosen.sum()


amax_p = Primitive("amax", lambda x, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims), _extreme_vjp,
                   jvp=(_extreme_jvp,))
amin_p = Primitive("amin", lambda x, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims), _extreme_vjp,
                   jvp=(_extreme_jvp,))
max_all_p = Primitive("max", np.max, _extreme_all_vjp, jvp=(_extreme_all_jvp,))
min_all_p = Primitive("min", np.min, _extreme_all_vjp, jvp=(_extreme_all_jvp,))


def _var_forward(x, axes, keepdims, correction, root=False):
    """Two passes: the mean, then the squared deviations (ufuncs called here, so a NaN or overflow
    stays silent, as in PyTorch); ``root`` gives the std. If huge values overflow that, the values
    are scaled by a power of two first (exact), so constant rows of 1e308 give 0 and the std of
    [1e308, -1e308] is 1.41e308 (PyTorch: inf in some layouts)."""
    count = _count(x.shape, axes)
    if count - correction <= 0:   # too few values: NaN, as PyTorch (NumPy would also warn)
        return np.full(_reduced_shape(x.shape, axes, keepdims), np.nan, x.dtype)
    dtype = x.dtype
    if dtype.itemsize < 8 and dtype.kind == "f":   # accumulate narrow floats in float64, as PyTorch
        x = x.astype(np.float64)
    out = _squared_deviations(x, axes, keepdims) / (count - correction)
    if root:
        out = np.sqrt(out)
    if x.dtype.kind == "f" and not np.isfinite(out).all() and np.isfinite(x).all():
        exponent = np.frexp(np.maximum.reduce(np.abs(x), axis=axes, keepdims=True))[1]
        scaled = _squared_deviations(np.ldexp(x, -exponent), axes, True) / (count - correction)
        out = np.ldexp(np.sqrt(scaled), exponent) if root else np.ldexp(scaled, 2 * exponent)
        out = out if keepdims else out.reshape(_reduced_shape(x.shape, axes, False))
    return out.astype(dtype, copy=False)


def _squared_deviations(x, axes, keepdims):
    centred = x - np.add.reduce(x, axis=axes, keepdims=True) / _count(x.shape, axes)
    return np.add.reduce(centred * centred, axis=axes, keepdims=keepdims)


def _var_vjp(xp, g, y, x, axes, keepdims, correction):
    shape = kept_shape(x.shape, axes)
    centred = x - (x / _count(x.shape, axes)).sum(axis=axes, keepdims=True)   # a mean that cannot overflow
    factor = np.divide(2.0, np.float64(_count(x.shape, axes) - correction))   # 1 value: inf, so NaN
    return (g.reshape(shape) * factor) * centred   # PyTorch's order: g * centred could overflow


def _var_jvp(xp, dx, y, x, axes, keepdims, correction):
    centred = x - (x / _count(x.shape, axes)).sum(axis=axes, keepdims=True)
    factor = np.divide(2.0, np.float64(_count(x.shape, axes) - correction))
    return (centred * dx).sum(axis=axes, keepdims=keepdims) * factor


var_p = Primitive("var", _var_forward, _var_vjp, jvp=(_var_jvp,))


def _std_vjp(xp, g, y, x, axes, keepdims, correction):
    """d sqrt(v) = dv / (2 sqrt(v)), but 0 where the std is 0 (constant rows), as PyTorch."""
    shape = kept_shape(x.shape, axes)
    centred = x - (x / _count(x.shape, axes)).sum(axis=axes, keepdims=True)
    std = y.reshape(shape)
    scale = xp.where(std == 0, 0.0, g.reshape(shape) / xp.where(std == 0, 1.0, std))
    return scale * centred * np.divide(1.0, np.float64(_count(x.shape, axes) - correction))


def _std_jvp(xp, dx, y, x, axes, keepdims, correction):
    centred = x - (x / _count(x.shape, axes)).sum(axis=axes, keepdims=True)
    along = (centred * dx).sum(axis=axes, keepdims=keepdims)
    scaled = xp.where(y == 0, 0.0, along / xp.where(y == 0, 1.0, y))
    return scaled * np.divide(1.0, np.float64(_count(x.shape, axes) - correction))


std_p = Primitive(
    "std", lambda x, axes, keepdims, correction: _var_forward(x, axes, keepdims, correction, root=True),
    _std_vjp, jvp=(_std_jvp,))


# --- the functions users call ---------------------------------------------------------------
def sum(x: Tensor, dim: Dims | None = None, keepdim: bool = False, *, axis: Dims | None = None,  # noqa: A001
        keepdims: bool | None = None, dtype: DTypeLike | None = None) -> Tensor:
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(sum_p, (x,), {"axes": axes, "keepdims": keep})


def mean(x: Tensor, dim: Dims | None = None, keepdim: bool = False, *, axis: Dims | None = None,
         keepdims: bool | None = None) -> Tensor:
    if x._data.dtype.kind != "f":
        raise ArgumentError(f"mean: needs a floating-point tensor, got {x._data.dtype} (use .float())")
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    return apply(mean_p, (x,), {"axes": axes, "keepdims": keep})


def _nonempty(op: str, x: Tensor, axes: tuple[int, ...] | None) -> None:
    """A max or min needs something to choose from (PyTorch refuses an empty reduction too)."""
    empty = [a for a in (range(x.ndim) if axes is None else axes) if x.shape[a] == 0]
    if empty or (axes is None and x._data.size == 0):
        where = f"dim {empty[0]} of size 0" if empty else "no elements"
        raise ShapeError(f"{op}(): the reduction over {where} of a tensor of shape {x.shape} has "
                         "nothing to choose from")


def amax(x: Tensor, dim: Dims | None = None, keepdim: bool = False, *, axis: Dims | None = None,
         keepdims: bool | None = None) -> Tensor:
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    _nonempty("amax", x, axes)
    return apply(amax_p, (x,), {"axes": axes, "keepdims": keep})


def amin(x: Tensor, dim: Dims | None = None, keepdim: bool = False, *, axis: Dims | None = None,
         keepdims: bool | None = None) -> Tensor:
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    _nonempty("amin", x, axes)
    return apply(amin_p, (x,), {"axes": axes, "keepdims": keep})


if TYPE_CHECKING:  # the fields' types, for type checkers; at run time a plain namedtuple
    class MaxResult(NamedTuple):
        """What ``max(x, dim)`` and ``min(x, dim)`` return: the values and where they are along dim."""

        values: Tensor
        indices: Tensor
else:
    MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _select(x: Tensor, dim: int | None, keepdim: bool, axis: int | None, keepdims: bool | None,
            pick: Primitive, whole: Primitive) -> Tensor | MaxResult:
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if dim is None:
        _nonempty(whole.name, x, None)
        return apply(whole, (x,), {})
    dim = normalize_dim(dim, x.ndim)
    _nonempty(whole.name, x, (dim,))
    index = outside_graph(pick, (x,), {"axis": dim, "keepdims": True})
    values = gather(x, dim, index)
    if not keepdim:
        values, index = squeeze(values, dim), squeeze(index, dim)
    return MaxResult(values, index)


@overload
def max(x: Tensor, dim: None = None, keepdim: bool = False, *, axis: None = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor: ...
@overload
def max(x: Tensor, dim: Tensor, keepdim: bool = False, *, axis: None = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor: ...
@overload
def max(x: Tensor, dim: int, keepdim: bool = False, *, axis: None = None,  # noqa: A001
        keepdims: bool | None = None) -> MaxResult: ...
@overload
def max(x: Tensor, dim: None = None, keepdim: bool = False, *, axis: int,  # noqa: A001
        keepdims: bool | None = None) -> MaxResult: ...


def max(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *, axis: int | None = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor | MaxResult:
    """max(x) -> the largest value; max(x, dim) -> (values, indices); max(x, other) -> maximum."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _select(x, dim, keepdim, axis, keepdims, argmax_p, max_all_p)


@overload
def min(x: Tensor, dim: None = None, keepdim: bool = False, *, axis: None = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor: ...
@overload
def min(x: Tensor, dim: Tensor, keepdim: bool = False, *, axis: None = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor: ...
@overload
def min(x: Tensor, dim: int, keepdim: bool = False, *, axis: None = None,  # noqa: A001
        keepdims: bool | None = None) -> MaxResult: ...
@overload
def min(x: Tensor, dim: None = None, keepdim: bool = False, *, axis: int,  # noqa: A001
        keepdims: bool | None = None) -> MaxResult: ...


def min(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *, axis: int | None = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor | MaxResult:
    """min(x) -> the smallest value; min(x, dim) -> (values, indices); min(x, other) -> minimum."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _select(x, dim, keepdim, axis, keepdims, argmin_p, min_all_p)


def _correction(unbiased: bool | None, correction: int | None) -> int:
    if correction is not None:
        return int(correction)
    return 1 if unbiased is None or unbiased else 0


def var(x: Tensor, dim: Dims | None = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None, axis: Dims | None = None, keepdims: bool | None = None) -> Tensor:
    """Variance with Bessel's correction by default (``unbiased=False`` or ``correction=0`` for 1/N)."""
    if isinstance(dim, bool):  # var(x, False): PyTorch's positional unbiased
        dim, unbiased = None, dim
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    params = {"axes": axes, "keepdims": keep, "correction": _correction(unbiased, correction)}
    return apply(var_p, (x,), params)


def std(x: Tensor, dim: Dims | None = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None, axis: Dims | None = None, keepdims: bool | None = None) -> Tensor:
    """Standard deviation, sqrt(var); its gradient is 0 (not NaN) where the std is 0."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    axes, keep = reduce_args(dim, keepdim, axis, keepdims, x.ndim)
    params = {"axes": axes, "keepdims": keep, "correction": _correction(unbiased, correction)}
    return apply(std_p, (x,), params)


# Which position holds the largest (smallest) value, and logic over values: ops without a gradient
argmax_p = Primitive("argmax", lambda x, axis=None, keepdims=False: np.asarray(
    np.argmax(x, axis=axis, keepdims=keepdims), dtype=np.int64))
argmin_p = Primitive("argmin", lambda x, axis=None, keepdims=False: np.asarray(
    np.argmin(x, axis=axis, keepdims=keepdims), dtype=np.int64))
all_p = Primitive("all", lambda x, axis: np.asarray(np.all(x, axis=axis)))
any_p = Primitive("any", lambda x, axis: np.asarray(np.any(x, axis=axis)))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when dim is None); no gradient."""
    if dim is None:
        return outside_graph(argmax_p, (x,))
    return outside_graph(argmax_p, (x,), {"axis": normalize_dim(dim, x.ndim), "keepdims": keepdim})


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        return outside_graph(argmin_p, (x,))
    return outside_graph(argmin_p, (x,), {"axis": normalize_dim(dim, x.ndim), "keepdims": keepdim})


def all(x: Tensor, dim: Dims | None = None) -> Tensor:  # noqa: A001
    return outside_graph(all_p, (x,), {"axis": dim})


def any(x: Tensor, dim: Dims | None = None) -> Tensor:  # noqa: A001
    return outside_graph(any_p, (x,), {"axis": dim})

