"""Scaled dot-product attention as one primitive: scores, masked softmax, dropout and the
weighted sum of values in one graph node, with a hand-written VJP.

For queries q (..., L, E), keys k (..., S, E), values v (..., S, Ev), an additive mask M
(broadcast to (..., L, S); -inf where a key must be ignored), a scale c (1/sqrt(E) by default)
and a dropout keep-mask D (entries 0 or 1/(1-p); all ones without dropout):

    A = c q k^T + M                    (..., L, S)   scores
    P = softmax(A) along the key axis  (..., L, S)   attention weights; a row whose every key is
                                                     masked out (all -inf) is 0, as PyTorch's
    O = (P * D) v                      (..., L, Ev)

Backward, with G = dL/dO:

    dL/dv = (P * D)^T G
    dL/dP = (G v^T) * D
    dL/dA = P * (dL/dP - sum_keys(dL/dP * P))     (the softmax VJP, row by row)
    dL/dq = c dL/dA k
    dL/dk = c dL/dA^T q
    dL/dM = dL/dA                                   (a float mask may itself be learned)

Forward mode, with tangents dq, dk, dv, dM (any of them absent counts as zero):

    dA = c (dq k^T + q dk^T) + dM
    dP = P * (dA - sum_keys(P * dA))              (the softmax JVP, row by row)
    dO = (dP * D) v + (P * D) dv

A row with every key masked out has P = 0, so dP = 0 there too (the scores' tangent is finite:
-inf lives in M, not in dM).

Inputs whose batch dims were broadcast get their gradient summed back by the engine. The
forward keeps P (needed by every gradient) in the node's params, so the backward does not
recompute it; when the backward (or the JVP) is itself recorded (create_graph=True, nested transforms) P is
rebuilt from the Tensors so that second derivatives see how P depends on q, k and M.

The mask argument: a bool mask says True = "may attend" (PyTorch's SDPA convention) and becomes
0 / -inf; a float mask is added as it is. ``is_causal`` is the lower-triangular bool mask
aligned at the top-left corner (query i sees keys 0..i), as PyTorch builds it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import DTypeError, ShapeError
from ..grad_mode import no_grad
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .operands import as_tensor
from .rearrange import repeat_interleave
from .unary import cast_p

if TYPE_CHECKING:
    from .._typing import DTypeLike


# --- the array code -------------------------------------------------------------------------
def causal_mask(length: int, source_length: int, dtype) -> np.ndarray:
    """(L, S) additive mask: 0 on and below the diagonal, -inf above it."""
    allowed = np.tri(length, source_length, dtype=bool)
    return np.where(allowed, 0.0, -np.inf).astype(dtype)


def attention_probs(q, k, mask, causal, scale):
    """P = softmax(scale q k^T + mask + causal) along the last axis; rows with no key left are 0."""
    scores = q @ np.swapaxes(k, -1, -2)
    scores *= scale
    for additive in (mask, causal):
        if additive is not None:
            if np.broadcast_shapes(scores.shape, additive.shape) == scores.shape:
                scores += additive
            else:
                scores = scores + additive
    peak = np.maximum.reduce(scores, axis=-1, keepdims=True)
    dead = np.isneginf(peak)
    any_dead = dead.any()
    if any_dead:
        peak[dead] = 0.0
    scores -= peak
    np.exp(scores, out=scores)
    total = np.add.reduce(scores, axis=-1, keepdims=True)
    if any_dead:
        total[dead] = 1.0   # exp(-inf) = 0 everywhere in that row: the row stays 0
    scores /= total
    return scores


def _attention_forward(q, k, v, mask=None, *, scale, causal, keep, probs):
    weights = probs if keep is None else probs * keep
    return weights @ v


def _probs_recorded(xp, q, k, mask, causal, scale, probs):
    """P rebuilt from Tensors (create_graph=True), so its dependence on q, k, M is recorded."""
    scores = (q @ xp.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        scores = scores + mask
    if causal is not None:
        scores = scores + Tensor._wrap(causal)
    dead = np.isneginf(np.maximum.reduce(scores._data, axis=-1, keepdims=True))
    if not dead.any():
        return xp.softmax(scores, -1)
    dead = np.broadcast_to(dead, scores.shape)
    probs = xp.softmax(xp.where(dead, 0.0, scores), -1)   # finite inputs: no NaN in the softmax VJP
    return xp.where(dead, 0.0, probs)


def _attention_vjp(xp, g, out, inputs, needs, scale, causal, keep, probs):
    q, k, v = inputs[:3]
    mask = inputs[3] if len(inputs) == 4 else None
    if not isinstance(q, np.ndarray):
        probs = _probs_recorded(xp, q, k, mask, causal, scale, probs)
    weights = probs if keep is None else probs * keep
    grads = [None] * len(inputs)
    if needs[2]:
        grads[2] = xp.swapaxes(weights, -1, -2) @ g
    if needs[0] or needs[1] or (mask is not None and needs[3]):
        d_probs = g @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            d_probs = d_probs * keep
        d_scores = probs * (d_probs - (d_probs * probs).sum(axis=-1, keepdims=True))
        if needs[0]:
            grads[0] = (d_scores @ k) * scale
        if needs[1]:
            grads[1] = (xp.swapaxes(d_scores, -1, -2) @ q) * scale
        if mask is not None and needs[3]:
            grads[3] = d_scores
    return grads


def _attention_jvp(xp, tangents, out, q, k, v, mask=None, *, scale, causal, keep, probs):
    dq, dk, dv = tangents[:3]
    d_mask = tangents[3] if len(tangents) == 4 else None
    if not isinstance(q, np.ndarray):
        probs = _probs_recorded(xp, q, k, mask, causal, scale, probs)
    d_out = None
    if dv is not None:
        d_out = (probs if keep is None else probs * keep) @ dv
    d_scores = None
    if dq is not None:
        d_scores = (dq @ xp.swapaxes(k, -1, -2)) * scale
    if dk is not None:
        share = (q @ xp.swapaxes(dk, -1, -2)) * scale
        d_scores = share if d_scores is None else d_scores + share
    if d_mask is not None:
        d_scores = d_mask if d_scores is None else d_scores + d_mask
    if d_scores is not None:
        d_probs = probs * (d_scores - (probs * d_scores).sum(axis=-1, keepdims=True))
        share = (d_probs if keep is None else d_probs * keep) @ v
        d_out = share if d_out is None else d_out + share
    return d_out


attention_p = Primitive("scaled_dot_product_attention", _attention_forward, vjp_all=_attention_vjp,
                        jvp=_attention_jvp)


# --- values made from inputs, as ops of their own ------------------------------------------
# Ops without a gradient (the keep-mask is drawn at random, a bool mask has none, and P's
# dependence on q, k and M is in attention_p's VJP): ops, not Python beside the graph, so that
# each is computed again from the current values when a compiled plan is replayed.
def _keep_mask(*, shape, p, dtype):
    uniform = B.rng().random(shape, dtype=np.float64 if dtype == np.float64 else np.float32)
    return (uniform >= p).astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype=dtype)


keep_mask_p = Primitive("dropout_mask", _keep_mask)
bool_mask_p = Primitive("additive_mask", lambda mask, *, take_part, dtype: np.where(
    ~mask if take_part else mask, -np.inf, 0.0).astype(dtype))


def _probs_forward(q, k, mask=None, *, causal, scale):
    with np.errstate(invalid="ignore", divide="ignore"):
        return attention_probs(q, k, mask, causal, scale)


probs_p = Primitive("attention_probs", _probs_forward)


# --- the function users call ----------------------------------------------------------------
def dropout_keep(shape: tuple[int, ...], p: float, dtype: DTypeLike) -> Tensor | None:
    """Dropout's keep-mask as a tensor: each entry 0 with probability p, else 1/(1-p) (drawn from
    the default generator). None when p == 0."""
    if p == 0.0:
        return None
    if p == 1.0:
        return Tensor._wrap(np.zeros(shape, dtype=dtype))
    return apply(keep_mask_p, (), {"shape": tuple(shape), "p": p, "dtype": np.dtype(dtype)})


def additive_mask(mask, dtype, op: str, take_part: bool = True):
    """A bool mask as 0 / -inf (``take_part``: True marks keys that may be attended, else keys to
    ignore), a float mask as it is (cast to ``dtype``); both as Tensors. None stays None."""
    if mask is None:
        return None
    mask = as_tensor(mask)
    kind = mask._data.dtype.kind
    if kind == "b":
        return apply(bool_mask_p, (mask,), {"take_part": take_part, "dtype": np.dtype(dtype)})
    if kind != "f":
        raise DTypeError(f"{op}: a mask must be bool or floating point, got {mask.dtype} "
                         f"(shape {tuple(mask.shape)})")
    return mask if mask._data.dtype == dtype else apply(cast_p, (mask,), {"dtype": np.dtype(dtype)})


def _check(q, k, v, op):
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise ShapeError(f"{op}: {name} must have at least 2 dims (..., sequence, features), got shape "
                             f"{tuple(t.shape)}")
        if t.dtype.kind != "f":
            raise DTypeError(f"{op}: {name} must be floating point, got {t.dtype} (shape {tuple(t.shape)})")
    if not q.dtype == k.dtype == v.dtype:
        raise DTypeError(f"{op}: query, key and value must share a dtype, got {q.dtype}, {k.dtype}, "
                         f"{v.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"{op}: query {tuple(q.shape)} and key {tuple(k.shape)} must end in the same "
                         "feature size")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{op}: key {tuple(k.shape)} and value {tuple(v.shape)} must have the same "
                         "sequence length (dim -2)")


def _group_heads(q, k, v, op):
    """enable_gqa: repeat each key/value head so that every group of query heads shares one."""
    if q.ndim < 3 or k.shape[-3] == q.shape[-3]:
        return k, v
    heads, kv_heads = q.shape[-3], k.shape[-3]
    if kv_heads != v.shape[-3] or heads % kv_heads:
        raise ShapeError(f"{op}: with enable_gqa the query heads ({heads}, query {tuple(q.shape)}) must be a "
                         f"multiple of the key/value heads (key {tuple(k.shape)}, value {tuple(v.shape)})")
    return repeat_interleave(k, heads // kv_heads, -3), repeat_interleave(v, heads // kv_heads, -3)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + mask) value, in one graph node (see the module docstring).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask``: bool
    (True = take part) or float (added to the scores), broadcast to (..., L, S). ``dropout_p`` is
    always applied when positive (like PyTorch's: pass 0.0 in evaluation)."""
    op = "scaled_dot_product_attention"
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    _check(q, k, v, op)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")
    if enable_gqa:
        k, v = _group_heads(q, k, v, op)
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ShapeError(f"{op}: the batch dims of query {tuple(q.shape)}, key {tuple(k.shape)} and value "
                         f"{tuple(v.shape)} do not broadcast") from None
    length, source_length = q.shape[-2], k.shape[-2]
    dtype = q._data.dtype
    mask = additive_mask(attn_mask, dtype, op)
    scores_shape = batch + (length, source_length)
    if mask is not None:
        try:
            if np.broadcast_shapes(scores_shape, mask.shape) != scores_shape:
                raise ValueError
        except ValueError:
            raise ShapeError(f"{op}: attn_mask of shape {tuple(mask.shape)} does not broadcast to the "
                             f"scores' shape {scores_shape}") from None
    causal = causal_mask(length, source_length, dtype) if is_causal else None
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    with no_grad():
        probs = apply(probs_p, (q, k) if mask is None else (q, k, mask), {"causal": causal, "scale": scale})
    keep = dropout_keep(scores_shape, float(dropout_p), dtype)
    params = {"scale": scale, "causal": causal, "keep": None if keep is None else keep._data,
              "probs": probs._data}
    inputs = (q, k, v) if mask is None else (q, k, v, mask)
    return apply(attention_p, inputs, params)
