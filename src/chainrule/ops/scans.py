"""Running (cumulative) sums, products, extremes and log-sum-exps along a dim, and the product
reduction. Along the dim, y_i depends on x_0..x_i, so each gradient sums g over i >= k: a
*reverse* cumulative sum, rcumsum(a)_k = sum_{i>=k} a_i = flip(cumsum(flip(a))).

    y = cumsum(x)        y_i = sum_{j<=i} x_j        dL/dx_k = rcumsum(g)_k
    y = cumprod(x)       y_i = prod_{j<=i} x_j       dL/dx_k = sum_{i>=k} g_i prod_{j<=i, j!=k} x_j
        without zeros:   dL/dx = rcumsum(g y) / x
        z = first zero:  before z as above (y_i = 0 from z on); at z: rcumsum(g y')_z where y' is
                         the cumprod with x_z replaced by 1; after z: 0 (every product holds x_z);
                         a recorded backward (create_graph) writes "after z" as x_z times the
                         same VJP with x_z left out, so second derivatives at zeros are exact
    y = logcumsumexp(x)  y_i = log sum_{j<=i} e^(x_j)
                         dL/dx_k = sum_{i>=k} g_i e^(x_k - y_i) = e^(x_k + rlogcumsumexp(log g - y)_k),
                         summed in log space for g > 0 and g < 0 apart (no overflow, as PyTorch;
                         like PyTorch's, a recorded backward sees no slope in g where g is exactly 0)
    y = prod(x)          dL/dx_k = g prod_{j!=k} x_j = g (prod_{j<k} x_j)(prod_{j>k} x_j)
                         (two exclusive cumprods, so zeros are exact: one zero gets the product of
                         the others, two zeros give all-zero gradients; g y / x when there is none)
    (values, indices) = cummax(x) / cummin(x): values = gather(x, indices), so dL/dx is g added
                         at the chosen indices (ties pick the latest index, as PyTorch)

Forward mode (JVPs; dx is x's tangent, y_i's tangent is dy_i = sum_{k<=i} dy_i/dx_k dx_k, a
*forward* cumulative sum):

    cumsum               dy = cumsum(dx)                                        (linear)
    cumprod              dy = y cumsum(dx / x) before the first zero z; from z on only the term
                         of x_z survives: dy = dx_z cumprod(x with x_z replaced by 1) (and, when
                         recorded, + x_z times the same JVP without x_z: 0, but the right slope)
    logcumsumexp         dy_i = sum_{j<=i} dx_j e^(x_j - y_i), summed in log space for dx > 0 and
                         dx < 0 apart (no overflow, no 0/0), as the VJP
    prod                 dy = sum_k dx_k prod_{j!=k} x_j = y sum(dx / x) without zeros, else with
                         the two exclusive cumprods again
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .arguments import dim_of, float_only
from .operands import kept_shape, reduce_args
from .shape import gather

if TYPE_CHECKING:
    from typing import NamedTuple

    from .._typing import DTypeLike


def _rcumsum(xp, a, axis):
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis), axis)


cumsum_p = Primitive(
    "cumsum", lambda x, axis: np.cumsum(x, axis=axis),
    lambda xp, g, y, x, axis: _rcumsum(xp, g, axis),
    jvp=LINEAR)


def _cumprod_vjp(xp, g, y, x, axis):
    zero = x == 0
    if not zero.any():
        return _rcumsum(xp, g * y, axis) / x
    zeros_so_far = xp.cumsum(zero, axis)
    before = zeros_so_far == 0                       # positions before their slice's first zero
    first = zero & (zeros_so_far == 1)               # the first zero itself
    before_first = _rcumsum(xp, g * y, axis) / xp.where(before, x, 1.0)
    x_skip = xp.where(first, 1.0, x)                 # x with the first zero left out
    y_skip = xp.cumprod(x_skip, axis)
    at_first = _rcumsum(xp, xp.where(before, 0.0, g * y_skip), axis)
    if isinstance(g, np.ndarray):  # plain backward: after the first zero the gradient is exactly 0
        after_first = 0.0
    else:  # recorded backward: keep it as x_z * (the same VJP without x_z), whose slope in x_z is not 0
        x_first = (x * first).sum(axis=axis, keepdims=True)
        after_first = x_first * _cumprod_vjp(xp, g, y_skip, x_skip, axis)
    return xp.where(before, before_first, xp.where(first, at_first, after_first))


def _cumprod_jvp(xp, dx, y, x, axis):
    zero = x == 0
    if not zero.any():
        return y * xp.cumsum(dx / x, axis)
    zeros_so_far = xp.cumsum(zero, axis)
    before = zeros_so_far == 0                       # positions before their slice's first zero
    first = zero & (zeros_so_far == 1)               # the first zero itself
    before_first = y * xp.cumsum(dx / xp.where(before, x, 1.0), axis)
    x_skip = xp.where(first, 1.0, x)                 # x with the first zero left out
    y_skip = xp.cumprod(x_skip, axis)
    from_first = (dx * first).sum(axis=axis, keepdims=True) * y_skip
    if not isinstance(dx, np.ndarray):  # recorded: + x_z (the JVP without x_z), 0 but with x_z's slope
        x_first = (x * first).sum(axis=axis, keepdims=True)
        from_first = from_first + x_first * _cumprod_jvp(xp, xp.where(first, 0.0, dx), y_skip, x_skip, axis)
    return xp.where(before, before_first, from_first)


cumprod_p = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis), _cumprod_vjp, jvp=(_cumprod_jvp,))


def _logcumsumexp_forward(x, axis):
    with np.errstate(invalid="ignore"):
        return np.logaddexp.accumulate(x, axis=axis)


def _logcumsumexp_vjp(xp, g, y, x, axis):
    lowest = float(np.finfo(g.dtype).min)  # PyTorch's stand-in for log(0): finite, so no inf - inf

    def signed_part(weight):  # sum_{i>=k} w_i e^(x_k - y_i) over the entries with w_i > 0
        positive = weight > 0
        log_weight = xp.where(positive, xp.log(xp.where(positive, weight, 1.0)), lowest)
        return xp.exp(xp.flip(xp.logcumsumexp(xp.flip(log_weight - y, axis), axis), axis) + x)

    with np.errstate(over="ignore"):  # lowest - y may round to -inf: e^-inf = 0 is the answer
        return signed_part(g) - signed_part(-g)


def _logcumsumexp_jvp(xp, dx, y, x, axis):
    lowest = float(np.finfo(dx.dtype).min)  # log(0), finite, as in the VJP

    def signed_part(tangent):  # sum_{j<=i} t_j e^(x_j - y_i) over the entries with t_j > 0
        positive = tangent > 0
        log_tangent = xp.where(positive, xp.log(xp.where(positive, tangent, 1.0)), lowest)
        return xp.exp(xp.logcumsumexp(log_tangent + x, axis) - y)

    with np.errstate(over="ignore"):
        return signed_part(dx) - signed_part(-dx)


logcumsumexp_p = Primitive("logcumsumexp", _logcumsumexp_forward, _logcumsumexp_vjp,
                           jvp=(_logcumsumexp_jvp,))


def _others_product(xp, x, axis):
    """prod_{j != k} x_j along ``axis`` for every k, by two exclusive cumprods (no division)."""
    first = (np.arange(x.shape[axis]) == 0).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
    before = xp.cumprod(xp.where(first, 1.0, xp.roll(x, 1, axis)), axis)
    flipped = xp.flip(x, axis)
    after = xp.flip(xp.cumprod(xp.where(first, 1.0, xp.roll(flipped, 1, axis)), axis), axis)
    return before * after


def _prod_vjp(xp, g, y, x, axes, keepdims):
    if x.ndim == 0:
        return g   # the product of one number is that number
    shape = kept_shape(x.shape, axes)
    spread_g, spread_y = g.reshape(shape), y.reshape(shape)
    if not (x == 0).any():
        return spread_g * (spread_y / x)
    if axes is None:
        if (x == 0).sum() > 1:   # two zeros: every product of the others holds a zero (PyTorch: zeros)
            return xp.broadcast_to(spread_g * 0.0, x.shape)
        return spread_g * _others_product(xp, x.reshape(-1), 0).reshape(x.shape)
    return spread_g * _others_product(xp, x, axes[0])


def _prod_jvp(xp, dx, y, x, axes, keepdims):
    if x.ndim == 0:
        return dx
    if not (x == 0).any():
        return (dx * (y.reshape(kept_shape(x.shape, axes)) / x)).sum(axis=axes, keepdims=keepdims)
    if axes is None:
        others = _others_product(xp, x.reshape(-1), 0).reshape(x.shape)
    else:
        others = _others_product(xp, x, axes[0])
    return (dx * others).sum(axis=axes, keepdims=keepdims)


prod_p = Primitive(
    "prod", lambda x, axes, keepdims: np.prod(x, axis=axes, keepdims=keepdims), _prod_vjp,
    jvp=(_prod_jvp,))


# --- the functions users call ---------------------------------------------------------------
def _with_dtype(x: Tensor, dtype) -> Tensor:
    """x cast to ``dtype`` when given; integer and bool tensors otherwise accumulate in int64."""
    if dtype is not None:
        return x.to(dtype)
    if x._data.dtype.kind in "iub" and x._data.dtype != np.int64:
        return Tensor._wrap(x._data.astype(np.int64))
    return x


def _scan(prim, x: Tensor, dim) -> Tensor:
    axis = dim_of(prim.name, x, dim)
    if x.ndim == 0:  # a 0-d tensor scans as one element, as PyTorch
        return apply(prim, (x.reshape(1),), {"axis": 0}).reshape(())
    return apply(prim, (x,), {"axis": axis})


def cumsum(x: Tensor, dim: int, *, dtype: DTypeLike | None = None) -> Tensor:
    """Running sum along ``dim``: y_i = x_0 + ... + x_i (torch.cumsum; ints and bools give int64)."""
    return _scan(cumsum_p, _with_dtype(x, dtype), dim)


def cumprod(x: Tensor, dim: int, *, dtype: DTypeLike | None = None) -> Tensor:
    """Running product along ``dim``: y_i = x_0 * ... * x_i (torch.cumprod); the gradient is
    exact where x has zeros."""
    return _scan(cumprod_p, _with_dtype(x, dtype), dim)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """Running log(sum(exp(x))) along ``dim``, without overflow (torch.logcumsumexp)."""
    float_only("logcumsumexp", x)
    return _scan(logcumsumexp_p, x, dim)


if TYPE_CHECKING:  # the fields' types, for type checkers; at run time a plain namedtuple
    class CumResult(NamedTuple):
        """(values, indices) of cummax and cummin."""

        values: Tensor
        indices: Tensor
else:
    CumResult = namedtuple("CumResult", ["values", "indices"])


def _running_index(x: np.ndarray, axis: int, running: np.ndarray) -> np.ndarray:
    """For each i, the latest j <= i with x_j equal to the running extreme (NaN sticks, as PyTorch)."""
    mark = (x == running) | np.isnan(x) if x.dtype.kind == "f" else x == running
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    positions = np.where(mark, np.arange(x.shape[axis]).reshape(shape), 0)
    return np.maximum.accumulate(positions, axis=axis).astype(np.int64)


def _cumulative_extreme(name, x: Tensor, dim, accumulate):
    axis = dim_of(name, x, dim)
    if x.ndim == 0:
        return CumResult(x, Tensor._wrap(np.zeros((), np.int64)))
    data = x._data
    if data.shape[axis] == 0:
        return CumResult(x, Tensor._wrap(np.zeros(data.shape, np.int64)))
    with np.errstate(invalid="ignore"):
        running = accumulate.accumulate(data, axis=axis)
    indices = _running_index(data, axis, running)
    return CumResult(gather(x, axis, indices), Tensor._wrap(indices))


def cummax(x: Tensor, dim: int) -> CumResult:
    """Running maximum along ``dim`` as (values, indices) (torch.cummax); the gradient goes to the
    element each running maximum came from."""
    return _cumulative_extreme("cummax", x, dim, np.maximum)


def cummin(x: Tensor, dim: int) -> CumResult:
    """Running minimum along ``dim`` as (values, indices) (torch.cummin)."""
    return _cumulative_extreme("cummin", x, dim, np.minimum)


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: DTypeLike | None = None) -> Tensor:
    """Product of all elements, or along ``dim`` (torch.prod); exact gradients where x has zeros.
    Integer and bool tensors multiply in int64."""
    x = _with_dtype(x, dtype)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise ArgumentError(f"prod: dim must be one integer (PyTorch's prod reduces one dim), got {dim!r}")
    if dim is not None:
        dim = dim_of("prod", x, dim)
        if x.ndim == 0:
            dim = None
    axes, keep = reduce_args(dim, keepdim, None, None, x.ndim)
    return apply(prod_p, (x,), {"axes": axes, "keepdims": keep})
