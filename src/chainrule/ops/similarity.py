"""Similarities and distances between two tensors, along one dim (inputs broadcast first).

Cosine similarity along dim, with PyTorch 2.x's eps rule (each norm clamped on its own):

    n1 = max(||x1||, eps),  n2 = max(||x2||, eps)      (||.|| the 2-norm along dim)
    s  = sum (x1 / n1) (x2 / n2)                       (normalised first: |s| <= 1 up to rounding)
    ds/dx1 = x2 / (n1 n2) - s x1 / (n1 ||x1||)         (the last term 0 where ||x1|| = 0)

and the same for x2 with the roles swapped. The clamp is a guard on the value only: like PyTorch,
the gradient differentiates ||x1|| even where eps replaced it (the clamp is applied outside the
graph), which is why the last term has n1 ||x1|| and not n1^2.

Pairwise distance: the p-norm of d = x1 - x2 + eps along the last dim (eps keeps the norm's
gradient finite when x1 = x2), r = ||d||_p:

    p = 2        r = sqrt(sum d^2)                    dr/dd = d / r                        (0 where r = 0)
    other p      r = (sum |d|^p)^(1/p)                dr/dd = sign(d) |d|^(p-1) / r^(p-1)  (0 where r = 0)
    p = +-inf    r = max |d| (min |d|)                dr/dd = sign(d) [|d| = r] / #ties
    p = 0        r = #(d != 0)                        dr/dd = 0
    dr/dx1 = dr/dd,  dr/dx2 = -dr/dd

Forward mode: ds = sum over dim of (ds/dx1 dx1 + ds/dx2 dx2) and dr = sum over the last dim of
dr/dd (dx1 - dx2), with the factors above.

Cosine embedding loss (composed of ops, PyTorch's formula with its own 1e-12 inside the roots):

    cos = sum x1 x2 / sqrt((sum x1^2 + 1e-12)(sum x2^2 + 1e-12))
    l = 1 - cos  where y = 1,    max(0, cos - margin)  where y = -1
"""

from __future__ import annotations

import math

from ..backend import np
from ..errors import DTypeError, ShapeError
from ..primitive import IndexOutOfRange, Primitive, apply
from ..tensor import Tensor
from .arithmetic import clamp, where
from .losses import _check_reduction, _reduce, legacy_reduction
from .reductions import sum
from .unary import sqrt


# --- cosine similarity ----------------------------------------------------------------------
def _cosine_forward(x1, x2, dim, eps):
    a, b = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.sqrt((a * a).sum(axis=dim, keepdims=True)), eps)
    n2 = np.maximum(np.sqrt((b * b).sum(axis=dim, keepdims=True)), eps)
    return ((a / n1) * (b / n2)).sum(axis=dim)


def _cosine_slope(xp, s, mine, other, dim, eps):
    """ds/d(mine), at the inputs' broadcast shape (s reshaped to keep ``dim``)."""
    shape = np.broadcast_shapes(mine.shape, other.shape)
    a, b = xp.broadcast_to(mine, shape), xp.broadcast_to(other, shape)
    norm_a = (a * a).sum(axis=dim, keepdims=True) ** 0.5
    norm_b = (b * b).sum(axis=dim, keepdims=True) ** 0.5
    clamped_a = xp.where(norm_a > eps, norm_a, eps)
    clamped_b = xp.where(norm_b > eps, norm_b, eps)
    nonzero = norm_a > 0
    kept = shape[:dim] + (1,) + shape[dim + 1:]
    through_norm = xp.where(nonzero, s.reshape(kept) / (clamped_a * xp.where(nonzero, norm_a, 1.0)), 0.0)
    return kept, b / (clamped_a * clamped_b) - a * through_norm


def _cosine_vjp(xp, g, s, mine, other, dim, eps):
    """ds/d(mine) * g, for the input ``mine``, the other one being ``other``."""
    kept, slope = _cosine_slope(xp, s, mine, other, dim, eps)
    return g.reshape(kept) * slope


def _cosine_jvp(xp, dmine, s, mine, other, dim, eps):
    """mine's share of ds: the slope times its tangent, summed along dim."""
    _, slope = _cosine_slope(xp, s, mine, other, dim, eps)
    return (slope * dmine).sum(axis=dim)


cosine_similarity_p = Primitive(
    "cosine_similarity", _cosine_forward,
    lambda xp, g, s, x1, x2, dim, eps: _cosine_vjp(xp, g, s, x1, x2, dim, eps),
    lambda xp, g, s, x1, x2, dim, eps: _cosine_vjp(xp, g, s, x2, x1, dim, eps),
    jvp=(lambda xp, dx1, s, x1, x2, dim, eps: _cosine_jvp(xp, dx1, s, x1, x2, dim, eps),
         lambda xp, dx2, s, x1, x2, dim, eps: _cosine_jvp(xp, dx2, s, x2, x1, dim, eps)))


# --- pairwise distance ----------------------------------------------------------------------
def _norm(d, p, keepdims):
    size = np.abs(d)
    if p == 0:
        return (d != 0).sum(axis=-1, keepdims=keepdims).astype(d.dtype)
    if math.isinf(p):
        return (size.max if p > 0 else size.min)(axis=-1, keepdims=keepdims)
    if p == 1:
        return size.sum(axis=-1, keepdims=keepdims)
    if p == 2:
        return np.sqrt((d * d).sum(axis=-1, keepdims=keepdims))
    return (size ** p).sum(axis=-1, keepdims=keepdims) ** (1.0 / p)


def _distance_forward(x1, x2, p, eps, keepdim):
    return _norm(x1 - x2 + eps, p, keepdim)


def _distance_vjp(xp, g, r, x1, x2, p, eps, keepdim):
    d = x1 - x2 + eps
    if not keepdim:
        g, r = g.reshape(g.shape + (1,)), r.reshape(r.shape + (1,))
    if p == 0:
        return d * 0.0
    sign = xp.sign(d)
    if math.isinf(p):
        ties = xp.where((d * sign) == r, 1.0, 0.0)
        return g * sign * ties / ties.sum(axis=-1, keepdims=True)
    if p == 1:
        return g * sign
    positive = r > 0
    safe_r = xp.where(positive, r, 1.0)
    if p == 2:
        return xp.where(positive, g * d / safe_r, 0.0)
    nonzero = d != 0
    power = xp.where(nonzero, (d * sign) ** (p - 1), 0.0)
    return xp.where(positive, g * sign * power / safe_r ** (p - 1), 0.0)


def _distance_jvp(xp, tangents, r, x1, x2, p, eps, keepdim):
    """dr = sum over the last dim of dr/dd * dd, dd = dx1 - dx2 (the inputs without a tangent: 0)."""
    dx1, dx2 = tangents
    dd = dx1 if dx2 is None else (-dx2 if dx1 is None else dx1 - dx2)
    d = x1 - x2 + eps
    spread_r = r if keepdim else r.reshape(r.shape + (1,))
    if p == 0:
        return r * 0.0
    sign = xp.sign(d)
    if math.isinf(p):
        ties = xp.where((d * sign) == spread_r, 1.0, 0.0)
        along = sign * ties * dd / ties.sum(axis=-1, keepdims=True)
    elif p == 1:
        along = sign * dd
    else:
        positive = spread_r > 0
        safe_r = xp.where(positive, spread_r, 1.0)
        if p == 2:
            along = xp.where(positive, dd * d / safe_r, 0.0)
        else:
            power = xp.where(d != 0, (d * sign) ** (p - 1), 0.0)
            along = xp.where(positive, dd * sign * power / safe_r ** (p - 1), 0.0)
    return along.sum(axis=-1, keepdims=keepdim)


pairwise_distance_p = Primitive(
    "pairwise_distance", _distance_forward, _distance_vjp,
    lambda xp, g, r, x1, x2, p, eps, keepdim: -_distance_vjp(xp, g, r, x1, x2, p, eps, keepdim),
    jvp=_distance_jvp)


# --- the functions users call ---------------------------------------------------------------
def _float_pair(op, x1, x2):
    """Both inputs as Tensors of one floating dtype (an integer one takes the other's dtype)."""
    x1 = x1 if isinstance(x1, Tensor) else Tensor(np.asarray(x1))
    x2 = x2 if isinstance(x2, Tensor) else Tensor(np.asarray(x2))
    if x1.dtype.kind != "f" and x2.dtype.kind != "f":
        raise DTypeError(f"{op}: needs floating-point inputs, got {x1.dtype} {x1.shape} and {x2.dtype} "
                         f"{x2.shape} (use .float())")
    dtype = np.result_type(*[x.dtype for x in (x1, x2) if x.dtype.kind == "f"])
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"{op}: inputs of shape {x1.shape} and {x2.shape} do not broadcast") from None
    return x1.to(dtype) if x1.dtype != dtype else x1, x2.to(dtype) if x2.dtype != dtype else x2, shape


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim`` (after broadcasting them together):

        s = sum (x1 / max(||x1||, eps)) (x2 / max(||x2||, eps))

    Each norm is clamped at ``eps`` on its own (PyTorch 2.x), so a zero vector gives 0, not NaN.
    The result has the broadcast shape without ``dim``."""
    op = "cosine_similarity"
    x1, x2, shape = _float_pair(op, x1, x2)
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexOutOfRange(f"{op}: dim {dim} is out of range for inputs of shape {x1.shape} and "
                              f"{x2.shape} (broadcast shape {shape})")
    if not shape:
        x1, x2, dim = x1.reshape(1), x2.reshape(1), 0
    return apply(cosine_similarity_p, (x1, x2), {"dim": dim % max(len(shape), 1), "eps": float(eps)})


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last dim (after broadcasting): row-by-row distances.

        r = (sum |x1 - x2 + eps|^p)^(1/p)        (p = inf: the largest |.|; p = 0: how many are not 0)"""
    op = "pairwise_distance"
    x1, x2, shape = _float_pair(op, x1, x2)
    if not shape:
        raise ShapeError(f"{op}: needs inputs with at least one dim, got shapes {x1.shape} and {x2.shape}")
    return apply(pairwise_distance_p, (x1, x2), {"p": float(p), "eps": float(eps), "keepdim": bool(keepdim)})


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """Pull pairs with y = 1 together (1 - cos) and push pairs with y = -1 apart (max(0, cos - margin)).

    input1, input2: (N, D) with target (N,) of 1 / -1, or (D,) with a scalar target."""
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    _check_reduction(op, reduction)
    y = np.asarray(target._data if isinstance(target, Tensor) else target)
    if y.ndim not in (0, 1) or input1.ndim != y.ndim + 1 or input2.ndim != y.ndim + 1:
        raise ShapeError(f"{op}: expects inputs (N, D) with target (N,), or (D,) with a scalar target; got "
                         f"inputs {input1.shape} and {input2.shape} with target {y.shape}")
    dim = y.ndim
    products = sum(input1 * input2, dim=dim)
    squares1 = sum(input1 * input1, dim=dim) + 1e-12
    squares2 = sum(input2 * input2, dim=dim) + 1e-12
    cos = products / sqrt(squares1 * squares2)
    loss = where(y == 1, 1.0 - cos, 0.0) + where(y == -1, clamp(cos - margin, min=0.0), 0.0)
    return _reduce(loss, reduction, loss._data.size)
