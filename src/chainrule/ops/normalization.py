"""Batch and layer normalisation as one primitive: normalise over some axes, then scale and shift.

Over the reduced axes (m values per statistic):

    mu = mean(x),  var = mean((x - mu)^2)   (biased),  s = 1 / sqrt(var + eps)
    x_hat = (x - mu) s
    y = gamma x_hat + beta                   (gamma, beta broadcast against x)

    dL/dbeta  = g                            (the engine sums it back to beta's shape)
    dL/dgamma = g x_hat                      (likewise)
    dL/dx     = s (h - mean(h) - x_hat mean(h x_hat)),   h = g gamma

The last line is the chain rule through mu and var: moving x moves the statistics too, which
removes the mean and the x_hat-direction component of h.

Forward mode (tangents dx, dgamma, dbeta), the same chain rule through mu and var:

    dx_hat = s (dx - mean(dx) - x_hat mean(x_hat dx))       (s dx with fixed running statistics)
    dy     = gamma dx_hat + dgamma x_hat + dbeta

Batch norm (input (N, C, ...)): statistics per channel over N and the spatial axes; in training
it also updates running_mean <- (1 - momentum) running_mean + momentum mu and
running_var <- (1 - momentum) running_var + momentum var m/(m - 1) (the unbiased variance), and in
evaluation it uses those running statistics instead: mu and s are then constants, so
dL/dx = g gamma s. Layer norm: statistics per sample over the trailing ``normalized_shape`` axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ShapeError
from ..grad_mode import no_grad
from ..primitive import Primitive, apply
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence


def _normalize_forward(x, weight, bias, axes, eps, mean, inv_std, fixed):
    y = (x - mean) * inv_std
    y *= weight
    y += bias
    return y


def _count(x, axes) -> int:
    """How many values each statistic is taken over."""
    count = 1
    for axis in axes:
        count *= x.shape[axis]
    return count


def _normalized(x, axes, eps, mean, inv_std, count):
    """(x_hat, inv_std) with batch statistics. On arrays the ones the forward kept; when the
    derivative is being recorded (x a Tensor) recomputed from x, since they depend on x too:
    mean = sum x / n, inv_std = (sum (x - mean)^2 / n + eps)^(-1/2), x_hat = (x - mean) inv_std."""
    if isinstance(x, np.ndarray):
        return (x - mean) * inv_std, inv_std
    centred = x - x.sum(axis=axes, keepdims=True) / count
    inv_std = ((centred * centred).sum(axis=axes, keepdims=True) / count + eps) ** -0.5
    return centred * inv_std, inv_std


def _normalize_vjp(xp, g, y, inputs, needs, axes, eps, mean, inv_std, fixed):
    x, weight, _ = inputs
    count = _count(x, axes)
    if fixed:  # evaluation with running statistics: y is an affine map of x
        x_hat = (x - mean) * inv_std if needs[1] else None
        return [g * weight * inv_std if needs[0] else None, g * x_hat if needs[1] else None,
                g if needs[2] else None]
    x_hat, inv_std = _normalized(x, axes, eps, mean, inv_std, count)
    grad_x = None
    if needs[0]:
        h = g * weight
        h_mean = h.sum(axis=axes, keepdims=True) / count
        hx_mean = (h * x_hat).sum(axis=axes, keepdims=True) / count
        grad_x = (h - h_mean - x_hat * hx_mean) * inv_std
    grad_weight = g * x_hat if needs[1] else None
    grad_bias = g if needs[2] else None
    return [grad_x, grad_weight, grad_bias]


def _normalize_jvp(xp, tangents, y, x, weight, bias, axes, eps, mean, inv_std, fixed):
    dx, dweight, dbias = tangents
    count = _count(x, axes)
    if fixed:
        x_hat = (x - mean) * inv_std
    else:
        x_hat, inv_std = _normalized(x, axes, eps, mean, inv_std, count)
    total = None
    if dx is not None:
        if fixed:
            dx_hat = dx * inv_std
        else:
            dx_mean = dx.sum(axis=axes, keepdims=True) / count
            along = (dx * x_hat).sum(axis=axes, keepdims=True) / count
            dx_hat = (dx - dx_mean - x_hat * along) * inv_std
        total = weight * dx_hat
    if dweight is not None:
        total = dweight * x_hat if total is None else total + dweight * x_hat
    if dbias is not None:
        total = dbias if total is None else total + dbias
    return total


normalize_p = Primitive("normalize", _normalize_forward, vjp_all=_normalize_vjp, jvp=_normalize_jvp)


# The statistics as ops without a gradient (normalize's VJP accounts for how they move with x):
# ops, not Python beside the graph, so that a compiled replay computes them from the new values.
mean_p = Primitive("mean_over", lambda x, *, axes: x.mean(axis=axes, keepdims=True))
var_p = Primitive("var_over", lambda x, *, axes: x.var(axis=axes, keepdims=True))
inv_std_p = Primitive("inv_std", lambda var, *, shape, eps, dtype: (
    1.0 / np.sqrt(var.reshape(shape) + eps)).astype(dtype, copy=False))
reshape_cast_p = Primitive("running_mean", lambda mean, *, shape, dtype: mean.reshape(shape).astype(
    dtype, copy=False))


def _update_running(mean, var, *, running_mean, running_var, momentum, count):
    """running <- (1 - momentum) running + momentum batch (the variance unbiased), in place."""
    channels = mean.size
    if running_mean is not None:
        running_mean *= 1.0 - momentum
        running_mean += momentum * mean.reshape(channels)
    if running_var is not None:
        running_var *= 1.0 - momentum
        running_var += (momentum * count / (count - 1)) * var.reshape(channels)
    return mean


update_running_p = Primitive("update_running_stats", _update_running)


def _statistics(x: Tensor, axes, eps):
    """Mean, biased variance and 1 / sqrt(variance + eps) over ``axes`` (kept), as tensors."""
    with no_grad():
        mean = apply(mean_p, (x,), {"axes": axes})
        var = apply(var_p, (x,), {"axes": axes})
        inv_std = apply(inv_std_p, (var,), {"shape": var.shape, "eps": eps, "dtype": x.dtype})
    return mean, var, inv_std


def _affine(value, shape, like, what, op):
    """weight/bias as a tensor broadcastable against the input (ones/zeros when None)."""
    if value is None:
        return Tensor._wrap(np.full(shape, 1.0 if what == "weight" else 0.0, dtype=like.dtype))
    size = int(np.prod(shape))
    if value._data.size != size:
        raise ShapeError(f"{op}: {what} of shape {value.shape} does not fit input of shape {like.shape} "
                         f"(expected {size} values)")
    return value.reshape(shape)


# --- the functions users call ---------------------------------------------------------------
def batch_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (axis 1) of ``input`` (N, C, ...) over the batch and spatial axes."""
    op = "batch_norm"
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C) or (N, C, ...), got shape {input.shape}")
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    gamma = _affine(weight, shape, input, "weight", op)
    beta = _affine(bias, shape, input, "bias", op)
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.shape != (channels,):
            raise ShapeError(f"{op}: {name} of shape {stat.shape} does not fit input of shape {input.shape} "
                             f"(expected ({channels},))")
    if not training:
        if running_mean is None or running_var is None:
            raise ShapeError(f"{op}: evaluation mode needs running_mean and running_var (or training=True)")
        with no_grad():
            mean = apply(reshape_cast_p, (running_mean,), {"shape": shape, "dtype": input.dtype})
            inv_std = apply(inv_std_p, (running_var,), {"shape": shape, "eps": eps, "dtype": input.dtype})
        params = {"axes": axes, "eps": eps, "mean": mean._data, "inv_std": inv_std._data, "fixed": True}
        return apply(normalize_p, (input, gamma, beta), params)
    count = input._data.size // channels
    if count <= 1:
        raise ShapeError(f"{op}: expected more than 1 value per channel when training, got input of shape "
                         f"{input.shape}")
    mean, var, inv_std = _statistics(input, axes, eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            apply(update_running_p, (mean, var), {
                "running_mean": None if running_mean is None else running_mean._data,
                "running_var": None if running_var is None else running_var._data,
                "momentum": momentum, "count": count})
        for stat in (running_mean, running_var):
            if stat is not None:
                stat._version += 1
    params = {"axes": axes, "eps": eps, "mean": mean._data, "inv_std": inv_std._data, "fixed": False}
    return apply(normalize_p, (input, gamma, beta), params)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` axes."""
    op = "layer_norm"
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.shape[input.ndim - k:] != normalized_shape or input.ndim < k:
        raise ShapeError(f"{op}: input of shape {input.shape} does not end with normalized_shape "
                         f"{normalized_shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    gamma = _affine(weight, normalized_shape, input, "weight", op)
    beta = _affine(bias, normalized_shape, input, "bias", op)
    mean, _, inv_std = _statistics(input, axes, eps)
    params = {"axes": axes, "eps": eps, "mean": mean._data, "inv_std": inv_std._data, "fixed": False}
    return apply(normalize_p, (input, gamma, beta), params)
