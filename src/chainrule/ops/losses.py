"""Loss functions as fused, numerically stable primitives.

Cross-entropy, written once for every case. Logits x have the class dim at axis 1: (N, C) or
(N, C, d1, ...). Every variant (class indices, class weights w, ignore_index, label smoothing eps,
probability targets) is "minus a weighted sum of log-probabilities" with a constant coefficient
array B of x's shape:

    log p = x - logsumexp(x, axis=1)
    loss_n = - sum_c B[n, c] log p[n, c]           (n: a sample and position d1, ...)
    dloss_n/dx[n, c] = A_n p[n, c] - B[n, c],       A_n = sum_c B[n, c],  p = softmax(x)

    class index t_n:       B[n, c] = (1 - eps) w_{t_n} [c = t_n] + (eps / C) w_c    (0 if t_n ignored)
    class probabilities q: B[n, c] = ((1 - eps) q[n, c] + eps / C) w_c
    reduction 'mean':      sum_n loss_n / D, D = sum over kept n of w_{t_n} (N*d1*... for probabilities)

The common case, (N, C) logits with class indices and no class weights or smoothing, has its
own row: the same formula with B one-hot, computed without building B (k_n = 0 if ignored, else 1):

    loss_n = k_n (logsumexp(x_n) - x[n, t_n])      dloss_n/dx[n, c] = k_n (p[n, c] - [c = t_n])

Binary cross-entropy on logits, with l = 1 + (pos_weight - 1) y and softplus(z) = log(1 + e^z)
computed as max(z, 0) + log(1 + e^-|z|) so it never overflows:

    loss = w ((1 - y) x + l softplus(-x))
    dL/dx = g w ((1 - y) - l sigmoid(-x))          = g w (sigmoid(x) - y) when pos_weight = 1
    dL/dy = g w ((pos_weight - 1) softplus(-x) - x)

Binary cross-entropy on probabilities p (each log clamped at -100, the denominator at 1e-12):

    loss = -w (y log p + (1 - y) log(1 - p))
    dL/dp = g w (p - y) / (p (1 - p))
    dL/dy = g w (log(1 - p) - log p)

Forward mode (the JVPs; dx, dy the tangents of logits/probabilities and targets): the same
derivatives, multiplied by the tangent and summed like the loss:

    cross-entropy          dloss_n = sum_c (A_n p[n, c] - B[n, c]) dx[n, c]   (then reduced)
                           one-hot rows: dloss_n = k_n (sum_c p[n, c] dx[n, c] - dx[n, t_n])
    binary cross-entropy   element-wise (a diagonal Jacobian): dloss = dL/dx dx + dL/dy dy, the two
                           factors above (for logits and for probabilities alike)

The element-wise losses (mse, l1, smooth L1, Huber, KL divergence) are in regression_losses.py.
"""

from __future__ import annotations

import math
import warnings

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .activations import _softmax_forward
from .arithmetic import where
from .shape import gather, squeeze

_EXP_MINUS_100 = math.exp(-100.0)

REDUCTIONS = ("none", "mean", "sum")


def _reduce(per_element, reduction, divisor):
    if reduction == "none":
        return per_element
    total = per_element.sum()
    return total / divisor if reduction == "mean" else total


def _spread(g, reduction, divisor, shape):
    """dL/d(per-element loss) with the class axis kept: g reshaped (none) or g/divisor (mean)."""
    if reduction == "none":
        return g.reshape(shape[:1] + (1,) + shape[2:])
    if reduction == "mean" and divisor == 0:
        return g * 0.0   # every target ignored (or weighted 0): the loss is NaN, its gradient 0 (PyTorch)
    return g / divisor if reduction == "mean" else g


def reduce_tangent(per_element, reduction, divisor):
    """A loss's tangent reduced as the loss is; an empty 'mean' (every target ignored) has no slope,
    as its gradient is 0."""
    if reduction == "mean" and divisor == 0:
        return per_element.sum() * 0.0
    return _reduce(per_element, reduction, divisor)


def _log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _cross_entropy_forward(x, coefficients, reduction, divisor):
    # a zero coefficient contributes exactly 0, even against log p = -inf (an ignored row of inf logits)
    per_element = -np.where(coefficients != 0, coefficients * _log_softmax(x), 0).sum(axis=1)
    return np.asarray(_reduce(per_element, reduction, divisor), dtype=x.dtype)


def _cross_entropy_vjp(xp, g, y, x, coefficients, reduction, divisor):
    total = coefficients.sum(axis=1, keepdims=True)
    return _spread(g, reduction, divisor, x.shape) * (xp.softmax(x, 1) * total - coefficients)


def _cross_entropy_jvp(xp, dx, y, x, coefficients, reduction, divisor):
    total = coefficients.sum(axis=1, keepdims=True)
    per_element = ((xp.softmax(x, 1) * total - coefficients) * dx).sum(axis=1)
    return reduce_tangent(per_element, reduction, divisor)


cross_entropy_p = Primitive("cross_entropy", _cross_entropy_forward, _cross_entropy_vjp,
                            jvp=(_cross_entropy_jvp,))


def _cross_entropy_index_forward(x, target, keep, reduction, divisor):
    per_sample = -_log_softmax(x)[np.arange(x.shape[0]), target]
    if keep is not None:   # ignored rows give exactly 0, whatever their logits (NaN * 0 would not)
        per_sample = np.where(keep != 0, per_sample, 0)
    return np.asarray(_reduce(per_sample, reduction, divisor), dtype=x.dtype)


def _cross_entropy_index_vjp(xp, g, y, x, target, keep, reduction, divisor):
    scale = _spread(g, reduction, divisor, x.shape)
    if keep is not None:
        scale = scale * keep[:, None]
    rows = np.arange(x.shape[0])
    if isinstance(x, np.ndarray):  # the plain backward: softmax, minus the one-hot, scaled, in one buffer
        grad = _softmax_forward(x, 1)
        grad[rows, target] -= 1
        grad *= scale   # an ignored row: 0, or NaN where its logits are not finite (as PyTorch)
        return grad
    one_hot = np.zeros(x.shape, x.dtype)
    one_hot[rows, target] = 1
    return scale * (xp.softmax(x, 1) - one_hot)


def _cross_entropy_index_jvp(xp, dx, y, x, target, keep, reduction, divisor):
    per_sample = (xp.softmax(x, 1) * dx).sum(axis=1) - dx[np.arange(x.shape[0]), target]
    if keep is not None:
        per_sample = xp.where(keep != 0, per_sample, 0.0)
    return reduce_tangent(per_sample, reduction, divisor)


cross_entropy_index_p = Primitive("cross_entropy", _cross_entropy_index_forward, _cross_entropy_index_vjp,
                                  jvp=(_cross_entropy_index_jvp,))


def _softplus_neg(xp, x):
    """softplus(-x) = log(1 + e^-x) = max(-x, 0) + log(1 + e^-|x|), with xp's functions."""
    return xp.where(x > 0, 0.0, -x) + xp.log(xp.exp(-(x * xp.sign(x))) + 1.0)


def _bce_logits_forward(x, y, weight, pos_weight):
    softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
    scale = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * y
    loss = (1.0 - y) * x + scale * softplus_neg
    return (loss if weight is None else loss * weight).astype(x.dtype, copy=False)


def _bce_logits_vjp_x(xp, g, out, x, y, weight, pos_weight):
    scale = 1.0 if pos_weight is None else (y * (pos_weight - 1.0) + 1.0)
    grad = g * ((1.0 - y) - xp.sigmoid(-x) * scale)
    return grad if weight is None else grad * weight


def _bce_logits_vjp_y(xp, g, out, x, y, weight, pos_weight):
    grad = -x if pos_weight is None else _softplus_neg(xp, x) * (pos_weight - 1.0) - x
    grad = g * grad
    return grad if weight is None else grad * weight


# element-wise: the Jacobian is diagonal, so each input's share of the JVP is the VJP's product
# with the input's tangent in place of g
bce_with_logits_p = Primitive("binary_cross_entropy_with_logits", _bce_logits_forward,
                              _bce_logits_vjp_x, _bce_logits_vjp_y,
                              jvp=(_bce_logits_vjp_x, _bce_logits_vjp_y))


def _clamped_log(xp, p):
    """max(log p, -100), without ever evaluating log 0: log p where p > e^-100, else -100."""
    above = p > _EXP_MINUS_100
    return xp.where(above, xp.log(xp.where(above, p, 1.0)), -100.0)


def _bce_forward(p, y, weight):
    loss = -(y * _clamped_log(np, p) + (1.0 - y) * _clamped_log(np, 1.0 - p))
    return (loss if weight is None else loss * weight).astype(p.dtype, copy=False)


def _bce_vjp_p(xp, g, out, p, y, weight):
    spread = p * (1.0 - p)
    grad = g * (p - y) / xp.where(spread > 1e-12, spread, 1e-12)
    return grad if weight is None else grad * weight


def _bce_vjp_y(xp, g, out, p, y, weight):
    grad = g * (_clamped_log(xp, 1.0 - p) - _clamped_log(xp, p))
    return grad if weight is None else grad * weight


bce_p = Primitive("binary_cross_entropy", _bce_forward, _bce_vjp_p, _bce_vjp_y,
                  jvp=(_bce_vjp_p, _bce_vjp_y))   # element-wise: the same products, as above


# --- argument checks shared by the losses ---------------------------------------------------
def legacy_reduction(op: str, size_average, reduce, reduction: str, stacklevel: int = 3) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` flags as a reduction (they win when given)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"{op}: size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=stacklevel)
    return reduction


def _check_reduction(op, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ArgumentError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _class_targets(op, x, target, ignore_index) -> tuple:
    """Check integer class targets against logits of shape (N, C, d1, ...): return them as an
    array, and whether any of them may be ``ignore_index`` (False when every one is a class
    and ignore_index is not one)."""
    t = np.asarray(target._data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold class indices as integers (int64), got {t.dtype} "
                         f"with shape {t.shape} for input of shape {x.shape}; use target.long() (or pass "
                         f"class probabilities with the input's shape {x.shape})")
    expected = x.shape[:1] + x.shape[2:]
    if t.shape != expected:
        raise ShapeError(f"{op}: target of shape {t.shape} does not fit input of shape {x.shape}; "
                         f"expected target shape {expected} (input is (N, C) or (N, C, d1, ...))")
    classes = x.shape[1]
    # read as unsigned, a negative index is huge: one max() checks both ends of the range
    if not t.size or t.view(t.dtype.str.replace("i", "u")).max() < classes:
        return t, ignore_index is not None and 0 <= ignore_index < classes
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ShapeError(f"{op}: target {int(t[position])} at position {position} is out of range for "
                         f"{classes} classes (input of shape {x.shape}); targets must be in "
                         f"[0, {classes - 1}]"
                         + (f" or ignore_index={ignore_index}" if ignore_index is not None else ""))
    return t, True


def _class_weights(op, weight, classes, dtype):
    if weight is None:
        return None
    w = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if w.shape != (classes,):
        raise ShapeError(f"{op}: weight must have one entry per class, shape ({classes},), got {w.shape}")
    return w


def _one_hot_coefficients(x_shape, t, ignore_index, w, dtype):
    """B[n, c] = w_{t_n} [c = t_n] (0 where ignored), and D = sum of w_{t_n} over kept n."""
    keep = t != ignore_index
    safe = np.where(keep, t, 0)[:, None]
    picked = keep.astype(dtype) if w is None else np.where(keep, w[safe[:, 0]], 0).astype(dtype)
    coefficients = np.zeros(x_shape, dtype=dtype)
    np.put_along_axis(coefficients, safe, picked[:, None], axis=1)
    return coefficients, keep, picked.sum()


def _unbatched(x, target):
    """(C,) logits with a scalar target are a batch of one."""
    if x.ndim == 1:
        t = target._data if isinstance(target, Tensor) else np.asarray(target)
        return x.reshape(1, -1), (t.reshape(1) if t.ndim == 0 else t.reshape(1, -1)), True
    return x, target, False


# --- the functions users call ---------------------------------------------------------------
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax + negative log-likelihood in one stable step (see the module docstring for the math)."""
    op = "cross_entropy"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    _check_reduction(op, reduction)
    if input.ndim == 0 or input.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating-point logits of shape (N, C) or (N, C, d1, ...), "
                         f"got {input.dtype} with shape {input.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x, target, unbatched = _unbatched(input, target)
    t_dtype = (target._data if isinstance(target, Tensor) else np.asarray(target)).dtype
    classes, dtype = x.shape[1], x.dtype
    w = _class_weights(op, weight, classes, dtype)
    class_shape = (1, classes) + (1,) * (x.ndim - 2)
    if t_dtype.kind == "f" and (target.shape if hasattr(target, "shape") else ()) == x.shape:
        q = np.asarray(target._data if isinstance(target, Tensor) else target, dtype=dtype)
        coefficients = q * (1.0 - label_smoothing) + label_smoothing / classes
        if w is not None:
            coefficients = coefficients * w.reshape(class_shape)
        divisor = x._data.size // classes
    else:
        t, may_ignore = _class_targets(op, x, target, ignore_index)
        if w is None and label_smoothing == 0 and x.ndim == 2:
            return _cross_entropy_index(x, t, ignore_index, reduction, may_ignore)
        coefficients, keep, divisor = _one_hot_coefficients(x.shape, t, ignore_index, w, dtype)
        if label_smoothing > 0:
            smooth = np.ones(class_shape, dtype) if w is None else w.reshape(class_shape)
            kept = keep[:, None].astype(dtype)
            smoothing = kept * smooth * (label_smoothing / classes)
            coefficients = coefficients * (1.0 - label_smoothing) + smoothing
    coefficients = coefficients.astype(dtype, copy=False)
    params = {"coefficients": coefficients, "reduction": reduction, "divisor": float(divisor)}
    out = apply(cross_entropy_p, (x,), params)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _cross_entropy_index(x, t, ignore_index, reduction, may_ignore):
    keep = t != ignore_index if may_ignore else None
    if keep is None or keep.all():
        keep, divisor = None, t.shape[0]
    else:
        t, divisor, keep = np.where(keep, t, 0), int(keep.sum()), keep.astype(x.dtype)
    params = {"target": t, "keep": keep, "reduction": reduction, "divisor": float(divisor)}
    return apply(cross_entropy_index_p, (x,), params)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """-sum_n w_{t_n} input[n, t_n] (reduced), for log-probabilities ``input`` of shape (N, C, ...)."""
    op = "nll_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    _check_reduction(op, reduction)
    x, target, unbatched = _unbatched(input, target)
    t, _ = _class_targets(op, x, target, ignore_index)
    w = _class_weights(op, weight, x.shape[1], x.dtype)
    coefficients, keep, divisor = _one_hot_coefficients(x.shape, t, ignore_index, w, x.dtype)
    picked = gather(x, 1, np.where(keep, t, 0)[:, None])   # input[n, t_n], a safe class where ignored
    weights = Tensor._wrap(np.sum(coefficients, axis=1, keepdims=True))
    per_element = -squeeze(where(keep[:, None], picked * weights, 0.0), 1)   # ignored: exactly 0
    if unbatched and reduction == "none":
        per_element = per_element.reshape(())
    return _reduce(per_element, reduction, float(divisor))


def _broadcast_weight(op, weight, shape, dtype, what):
    if weight is None:
        return None
    w = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=dtype)
    try:
        fits = np.broadcast_shapes(w.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: {what} of shape {w.shape} does not broadcast to input shape {shape}")
    return w


def _check_same_shape(op, input, target):
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ShapeError(f"{op}: target of shape {target.shape} must have the input's shape {input.shape}")
    if target.dtype.kind != "f":
        raise DTypeError(f"{op}: target must be floating-point (0/1 labels as floats), got "
                         f"{target.dtype} with shape {target.shape}; use target.float()")
    return target.to(input.dtype) if target.dtype != input.dtype else target


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step; ``pos_weight`` scales the positive term.
    The target must have the input's shape (a ShapeError, a ValueError, otherwise, as PyTorch)."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    _check_reduction(op, reduction)
    target = _check_same_shape(op, input, target)
    w = _broadcast_weight(op, weight, input.shape, input.dtype, "weight")
    pw = _broadcast_weight(op, pos_weight, input.shape, input.dtype, "pos_weight")
    per_element = apply(bce_with_logits_p, (input, target), {"weight": w, "pos_weight": pw})
    return _reduce(per_element, reduction, per_element._data.size)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) for probabilities p; each log is clamped at -100 as PyTorch.
    The target must have the input's shape and ``weight`` must broadcast to it (ShapeError, a
    ValueError, otherwise)."""
    op = "binary_cross_entropy"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    _check_reduction(op, reduction)
    target = _check_same_shape(op, input, target)
    if input._data.size and (input._data.min() < 0 or input._data.max() > 1):
        raise ArgumentError(f"{op}: input (shape {input.shape}) must hold probabilities in [0, 1], got "
                         f"values in [{input._data.min():.4g}, {input._data.max():.4g}]; use "
                         "binary_cross_entropy_with_logits for raw scores")
    w = _broadcast_weight(op, weight, input.shape, input.dtype, "weight")
    per_element = apply(bce_p, (input, target), {"weight": w})
    return _reduce(per_element, reduction, per_element._data.size)
