"""Element-wise losses: one loss per element of d = x - y (input x, target y), then a reduction.

    mse_loss         l = d^2                                        dl/dx = 2 d
    l1_loss          l = |d|                                        dl/dx = sign(d)     (0 at d = 0)
    smooth_l1_loss   l = d^2 / (2 beta)          where |d| < beta   dl/dx = d / beta
                     l = |d| - beta / 2          elsewhere          dl/dx = sign(d)
                     (beta = 0 is l1_loss)
    huber_loss       l = d^2 / 2                 where |d| < delta  dl/dx = d
                     l = delta (|d| - delta / 2) elsewhere          dl/dx = delta sign(d)
    every one:       dl/dy = -dl/dx

Huber is smooth L1 scaled by delta: huber_loss(delta) = delta * smooth_l1_loss(beta=delta).

Kullback-Leibler divergence, input x = log q (log-probabilities), target p (probabilities):

    kl_div           l = p (log p - x)   (0 where p = 0)            dl/dx = -p
                                                                    dl/dp = log p + 1 - x   (NaN at p = 0,
                                                                            as PyTorch: undefined there)
    log_target=True  the target is t = log p:  l = e^t (t - x)      dl/dx = -e^t
                                                                    dl/dt = e^t (t - x + 1)

Forward mode: dl = dl/dd (dx - dy) for the element-wise losses (the slope above times the
tangent of d), and for kl_div dl = dl/dx dx + dl/dp dp; then reduced as the loss is.

Reductions: 'none' keeps l; 'sum' adds it up; 'mean' divides the sum by the number of elements;
'batchmean' (kl_div only, the true KL divergence per sample) divides it by input.shape[0]. With a
``weight`` w of the input's shape (mse, l1, huber): l becomes w l, and 'mean' is sum(w l) / sum(w)
for mse and l1 but mean(w l) for huber (PyTorch's definitions).

Shapes: as in PyTorch, a target whose shape differs from the input's warns (a UserWarning: input
(5, 1) against target (5,) broadcasts to a 5 x 5 loss, rarely what was meant) and then both are
broadcast; the elements of d are those of the broadcast shape, and so is 'mean'. kl_div broadcasts
without a warning. Shapes that do not broadcast raise ShapeError.
"""

from __future__ import annotations

import math
import warnings

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .losses import REDUCTIONS, _check_reduction, _reduce, legacy_reduction, reduce_tangent

_SIZE_WARNING = ("Using a target size {target} that is different to the input size {input}. This will "
                 "likely lead to incorrect results due to broadcasting. "
                 "Please ensure they have the same size.")


def _pointwise_loss(name, value, slope):
    """A primitive for l(d), d = x - y, reduced: ``value(d, **options)`` on arrays, and the
    derivative ``slope(xp, d, **options)`` = dl/dd, written with ``xp`` so it is differentiable."""

    def forward(x, y, reduction, **options):
        d = x - y
        return np.asarray(_reduce(value(d, **options), reduction, d.size), dtype=d.dtype)

    def vjp_x(xp, g, out, x, y, reduction, **options):
        d = x - y
        grad = g * slope(xp, d, **options)
        return grad / xp.numel(d) if reduction == "mean" else grad

    def vjp_y(xp, g, out, x, y, reduction, **options):
        return -vjp_x(xp, g, out, x, y, reduction, **options)

    def jvp(xp, tangents, out, x, y, reduction, **options):
        dx, dy = tangents
        d = x - y
        dd = dx if dy is None else (-dy if dx is None else dx - dy)
        return reduce_tangent(slope(xp, d, **options) * dd, reduction, xp.numel(d))

    return Primitive(name, forward, vjp_x, vjp_y, jvp=jvp)


def _smooth_l1_value(d, beta):
    size = np.abs(d)
    return np.where(size < beta, 0.5 * d * d / beta, size - 0.5 * beta)


def _smooth_l1_slope(xp, d, beta):
    return xp.where(d > beta, 1.0, xp.where(d < -beta, -1.0, d / beta))


def _huber_value(d, delta):
    size = np.abs(d)
    return np.where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))


def _huber_slope(xp, d, delta):
    return xp.where(d > delta, delta, xp.where(d < -delta, -delta, d))


mse_p = _pointwise_loss("mse_loss", lambda d: d * d, lambda xp, d: d * 2.0)
l1_p = _pointwise_loss("l1_loss", np.abs, lambda xp, d: xp.sign(d))
smooth_l1_p = _pointwise_loss("smooth_l1_loss", _smooth_l1_value, _smooth_l1_slope)
huber_p = _pointwise_loss("huber_loss", _huber_value, _huber_slope)


def _kl_forward(x, t, log_target, reduction, divisor):
    if log_target:
        per_element = np.exp(t) * (t - x)
    else:
        zero = t == 0
        per_element = np.where(zero, 0.0, t * np.log(np.where(zero, 1.0, t))) - t * x
    reduced = _reduce(per_element, "mean" if reduction == "batchmean" else reduction, divisor)
    return np.asarray(reduced, dtype=per_element.dtype)


def _kl_scale(g, reduction, divisor):
    return g / divisor if reduction in ("mean", "batchmean") else g


def _kl_vjp_input(xp, g, out, x, t, log_target, reduction, divisor):
    p = xp.exp(t) if log_target else t
    grad = -_kl_scale(g, reduction, divisor) * p
    shape = np.broadcast_shapes(x.shape, t.shape)
    return grad if grad.shape == shape else xp.broadcast_to(grad, shape)


def _kl_vjp_target(xp, g, out, x, t, log_target, reduction, divisor):
    g = _kl_scale(g, reduction, divisor)
    if log_target:
        return g * (xp.exp(t) * (t - x + 1.0))
    zero = t == 0
    grad = g * (xp.log(xp.where(zero, 1.0, t)) + 1.0 - x)
    return xp.where(zero, math.nan, grad)


def _kl_jvp(xp, tangents, out, x, t, log_target, reduction, divisor):
    dx, dt = tangents
    along = None if dx is None else -(xp.exp(t) if log_target else t) * dx
    if dt is not None:
        if log_target:
            by_target = xp.exp(t) * (t - x + 1.0) * dt
        else:
            zero = t == 0
            by_target = xp.where(zero, math.nan, (xp.log(xp.where(zero, 1.0, t)) + 1.0 - x) * dt)
        along = by_target if along is None else along + by_target
    return reduce_tangent(along, "mean" if reduction == "batchmean" else reduction, divisor)


kl_div_p = Primitive("kl_div", _kl_forward, _kl_vjp_input, _kl_vjp_target, jvp=_kl_jvp)


# --- argument checks shared by the functions below ------------------------------------------
def _input_and_target(op: str, input, target, warn: bool = True, stacklevel: int = 4):
    """Both as Tensors of the input's float dtype, checked to broadcast; warns (as PyTorch) when
    the target's shape is not the input's."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        got = f"{input.dtype} with shape {input.shape}" if isinstance(input, Tensor) else type(input).__name__
        raise DTypeError(f"{op}: input must be a floating-point Tensor, got {got}")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:   # (np.broadcast_shapes costs microseconds: only when they differ)
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ShapeError(f"{op}: input of shape {input.shape} and target of shape {target.shape} do "
                             "not broadcast") from None
    if warn and target.shape != input.shape:
        warnings.warn(_SIZE_WARNING.format(target=target.shape, input=input.shape), UserWarning,
                      stacklevel=stacklevel)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


def _weighted(op, primitive, input, target, weight, reduction, options, mean_of_weights):
    """w * l with PyTorch's reductions: sum(w l) / sum(w) (mse, l1) or mean(w l) (huber)."""
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight, dtype=input.dtype))
    if weight.shape != input.shape:
        raise ShapeError(f"{op}: weight of shape {weight.shape} must have the input's shape {input.shape} "
                         "(Weights and input must have the same size.)")
    loss = apply(primitive, (input, target), {"reduction": "none", **options}) * weight
    if reduction == "none":
        return loss
    if reduction == "sum" or not mean_of_weights:
        return loss.sum() if reduction == "sum" else loss.mean()
    return loss.sum() / weight.sum()


def _pointwise(op, primitive, input, target, size_average, reduce, reduction, weight=None,
               mean_of_weights=True, **options):
    reduction = legacy_reduction(op, size_average, reduce, reduction, stacklevel=4)
    _check_reduction(op, reduction)
    input, target = _input_and_target(op, input, target, stacklevel=4)
    if weight is not None:
        return _weighted(op, primitive, input, target, weight, reduction, options, mean_of_weights)
    return apply(primitive, (input, target), {"reduction": reduction, **options})


# --- the functions users call ---------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: reduce((input - target)^2), each term times ``weight`` if given."""
    return _pointwise("mse_loss", mse_p, input, target, size_average, reduce, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: reduce(|input - target|), each term times ``weight`` if given."""
    return _pointwise("l1_loss", l1_p, input, target, size_average, reduce, reduction, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Squared error below ``beta``, absolute error (less beta/2) above: reduce(l), d = input - target,

        l = d^2 / (2 beta)   if |d| < beta,    |d| - beta / 2   otherwise.

    Quadratic near 0 (small gradients for small errors), linear far out (outliers pull no harder
    than 1). beta = 0 is exactly ``l1_loss``."""
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return _pointwise("smooth_l1_loss", l1_p, input, target, size_average, reduce, reduction)
    return _pointwise("smooth_l1_loss", smooth_l1_p, input, target, size_average, reduce, reduction,
                      beta=float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Squared error below ``delta``, delta-scaled absolute error above: reduce(l), d = input - target,

        l = d^2 / 2   if |d| < delta,    delta (|d| - delta / 2)   otherwise

    (= delta * smooth_l1_loss with beta = delta). With ``weight``, 'mean' is mean(weight * l)."""
    if delta <= 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    return _pointwise("huber_loss", huber_p, input, target, None, None, reduction, weight,
                      mean_of_weights=False, delta=float(delta))


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(p || q) = sum p (log p - log q), for ``input`` = log q
    (log-probabilities, e.g. log_softmax output) and ``target`` = p (or log p if ``log_target``).

    reduction='batchmean' gives the true KL divergence per sample (the sum divided by
    input.shape[0]); 'mean' divides by every element and warns, as PyTorch does."""
    op = "kl_div"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    _check_reduction(op, reduction, REDUCTIONS + ("batchmean",))
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    input, target = _input_and_target(op, input, target, warn=False)
    if reduction == "batchmean":
        divisor = input.shape[0] if input.ndim else 1
    else:
        divisor = math.prod(np.broadcast_shapes(input.shape, target.shape))
    params = {"log_target": bool(log_target), "reduction": reduction, "divisor": float(divisor)}
    return apply(kl_div_p, (input, target), params)
