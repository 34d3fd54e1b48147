"""Multi-head attention as a function: PyTorch's ``F.multi_head_attention_forward``.

With H heads of size d = E / H, each head attends in its own slice of a learned projection:

    Q = query W_q^T + b_q,   K = key W_k^T + b_k,   V = value W_v^T + b_v     (W_q, W_k, W_v: E x E_in)
    head_h = softmax(Q_h K_h^T / sqrt(d) + mask) V_h                            (Q_h: columns h*d..(h+1)*d)
    output = [head_1 ... head_H] W_o^T + b_o

Everything here is made of differentiable ops (linear, reshape, the fused attention primitive of
``chainrule/ops/attention.py``), so the gradients follow from the chain rule through them.

Masks, as in PyTorch's MultiheadAttention: a bool ``attn_mask`` or ``key_padding_mask`` marks with
True the positions that may NOT be attended (the opposite of scaled_dot_product_attention's bool
mask) and becomes -inf; a float mask is added to the scores. ``attn_mask`` is (L, S) or
(N*H, L, S); ``key_padding_mask`` is (N, S) and is added to every query row and head.

A query row whose every key is masked out: with ``need_weights=False`` (the fused attention
primitive) its output is 0 before the output projection; with ``need_weights=True`` (the weights
computed in the open, as PyTorch does) it is NaN. Both are what PyTorch 2.13 gives.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ShapeError
from ..ops import indexing, shape
from ..ops.activations import softmax
from ..ops.arithmetic import mul
from ..ops.attention import additive_mask, dropout_keep, scaled_dot_product_attention
from ..ops.linear import linear
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                  attn_mask: Tensor | None, num_heads: int, op: str) -> bool:
    """PyTorch's rules: batched (3-D) or unbatched (2-D) inputs, masks of matching rank."""
    if query.ndim not in (2, 3):
        raise ShapeError(f"{op}: query must be 2-D (unbatched) or 3-D (batched), got shape "
                         f"{tuple(query.shape)}")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{op}: query of shape {tuple(query.shape)} needs {query.ndim}-D key and value, got "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ShapeError(f"{op}: key_padding_mask must be {query.ndim - 1}-D for a {query.ndim}-D query, got "
                         f"shape {tuple(key_padding_mask.shape)}")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise ShapeError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (N*num_heads, L, S), got shape "
                             f"{tuple(attn_mask.shape)}")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and attn_mask.shape != expected:
            raise ShapeError(f"{op}: a 3-D attn_mask for unbatched input must be {expected}, got "
                             f"{tuple(attn_mask.shape)}")
    return batched


def _project(query: Tensor, key: Tensor, value: Tensor, in_proj_weight: Tensor | None,
             in_proj_bias: Tensor | None, separate: tuple[Tensor, Tensor, Tensor] | None,
             embed_dim: int) -> tuple[Tensor, ...]:
    """Q, K, V: one GEMM for self-attention (query is key is value), two when key is value."""
    if separate is not None:
        weights = separate
        biases = (None,) * 3 if in_proj_bias is None else indexing.chunk(in_proj_bias, 3)
        return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
    if query is key and key is value:
        return indexing.split(linear(query, in_proj_weight, in_proj_bias), embed_dim, dim=-1)  # type: ignore[arg-type]
    w_q, w_kv = indexing.split(in_proj_weight, [embed_dim, 2 * embed_dim])  # type: ignore[arg-type]  # set without separate
    b_q, b_kv = (None, None) if in_proj_bias is None else indexing.split(in_proj_bias,
                                                                         [embed_dim, 2 * embed_dim])
    q = linear(query, w_q, b_q)
    if key is value:
        return (q,) + tuple(indexing.split(linear(key, w_kv, b_kv), embed_dim, dim=-1))
    w_k, w_v = indexing.split(w_kv, embed_dim)
    b_k, b_v = (None, None) if b_kv is None else indexing.split(b_kv, embed_dim)
    return q, linear(key, w_k, b_k), linear(value, w_v, b_v)


def _heads(x: Tensor, num_heads: int) -> Tensor:
    """(N, T, E) -> (N, H, T, E/H): each head's slice of the features."""
    n, t, e = x.shape
    return shape.permute(x.reshape(n, t, num_heads, e // num_heads), (0, 2, 1, 3))


def _append_key_column(mask: Tensor | None) -> Tensor | None:
    """One more key position, never masked (for bias_k/bias_v and add_zero_attn)."""
    return None if mask is None else indexing.pad(mask, (0, 1))


def _same_way(query: Tensor, key: Tensor, value: Tensor, change: Callable[[Tensor], Tensor]) -> tuple[Tensor,
              Tensor, Tensor]:
    """Apply ``change`` to query, key and value, keeping them one object where they were one
    (so self-attention still takes the one-GEMM projection)."""
    q = change(query)
    k = q if key is query else change(key)
    v = k if value is key else (q if value is query else change(value))
    return q, k, v


def attend(query: Tensor, key: Tensor, value: Tensor, num_heads: int, in_proj_weight: Tensor | None,
           in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
           dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
           key_padding_mask: Tensor | None = None, need_weights: bool = True, attn_mask: Tensor | None = None,
           separate_proj: tuple[Tensor, Tensor, Tensor] | None = None, static_k: Tensor | None = None,
           static_v: Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False,
           op: str = "multi_head_attention_forward") -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on BATCH-FIRST input: query (N, L, E) or unbatched (L, E).
    Returns (output (N, L, E), weights or None). ``separate_proj``: (W_q, W_k, W_v) or None."""
    key_padding_mask = None if key_padding_mask is None else _tensor(key_padding_mask)
    attn_mask = None if attn_mask is None else _tensor(attn_mask)
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads, op)
    if not batched:
        query, key, value = _same_way(query, key, value, lambda x: x.unsqueeze(0))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    batch, length, embed_dim = query.shape
    dtype = query._data.dtype
    padding = additive_mask(key_padding_mask, dtype, op, take_part=False)
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True is a hint that attn_mask is causal and needs the attn_mask "
                         "(nn.Transformer.generate_square_subsequent_mask makes one)")
    if is_causal and padding is None and not need_weights:
        mask = None   # the fused attention builds the causal mask itself
    else:
        mask = additive_mask(attn_mask, dtype, op, take_part=False)
        is_causal = is_causal and padding is None
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ShapeError(f"{op}: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
    if separate_proj is None and key.shape != value.shape:
        raise ShapeError(f"{op}: key of shape {tuple(key.shape)} and value of shape {tuple(value.shape)} "
                         "must match")
    if key.shape[:2] != value.shape[:2] or key.shape[0] != batch:
        raise ShapeError(f"{op}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                         f"{tuple(value.shape)} must share the batch size and key/value their length")
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, separate_proj, embed_dim)
    source = key.shape[1]
    if mask is not None:
        mask = _attn_mask_4d(mask, batch, num_heads, length, source, op)
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None or static_k is not None or static_v is not None:
            raise ValueError(f"{op}: bias_k and bias_v go together, and not with static_k/static_v")
        k = indexing.cat([k, bias_k.reshape(1, 1, embed_dim).expand(batch, 1, embed_dim)], dim=1)
        v = indexing.cat([v, bias_v.reshape(1, 1, embed_dim).expand(batch, 1, embed_dim)], dim=1)
        mask, padding = _append_key_column(mask), _append_key_column(padding)
    q = _heads(q, num_heads)
    k = _heads(k, num_heads) if static_k is None else _static(static_k, batch, num_heads, head_dim, op)
    v = _heads(v, num_heads) if static_v is None else _static(static_v, batch, num_heads, head_dim, op)
    if add_zero_attn:
        zeros = Tensor._wrap(np.zeros((batch, num_heads, 1, head_dim), dtype=dtype))
        k, v = indexing.cat([k, zeros], dim=2), indexing.cat([v, zeros], dim=2)
        mask, padding = _append_key_column(mask), _append_key_column(padding)
    source = k.shape[2]
    if padding is not None:
        if padding.shape != (batch, source):
            raise ShapeError(f"{op}: key_padding_mask must be (batch, source length) = {(batch, source)}, "
                             f"got {tuple(padding.shape)}")
        padding = padding.reshape(batch, 1, 1, source)
        mask = padding if mask is None else mask + padding
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = mul(q, math.sqrt(1.0 / head_dim)) @ shape.transpose(k, -1, -2)
        with np.errstate(invalid="ignore"):   # a fully masked row is NaN, as in PyTorch (docstring)
            weights = softmax(scores if mask is None else scores + mask, -1)
        keep = dropout_keep(weights.shape, float(dropout_p), dtype)
        if keep is not None:
            weights = mul(weights, keep)
        heads = weights @ v
    else:
        weights = None
        heads = scaled_dot_product_attention(q, k, v, mask, float(dropout_p), is_causal)
    output = linear(shape.permute(heads, (0, 2, 1, 3)).reshape(batch, length, embed_dim),
                    out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        output = output.squeeze(0)
        weights = None if weights is None else weights.squeeze(0)
    return output, weights


def _tensor(value: object) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _attn_mask_4d(mask: Tensor, batch: int, num_heads: int, length: int, source: int, op: str) -> Tensor:
    """(L, S) -> (1, 1, L, S); (N*H, L, S) -> (N, H, L, S)."""
    if mask.ndim == 2:
        if mask.shape != (length, source):
            raise ShapeError(f"{op}: a 2-D attn_mask must be (L, S) = {(length, source)}, got "
                             f"{tuple(mask.shape)}")
        return mask.reshape(1, 1, length, source)
    if mask.shape != (batch * num_heads, length, source):
        raise ShapeError(f"{op}: a 3-D attn_mask must be (N*num_heads, L, S) = "
                         f"{(batch * num_heads, length, source)}, got {tuple(mask.shape)}")
    return mask.reshape(batch, num_heads, length, source)


def _static(static: Tensor, batch: int, num_heads: int, head_dim: int, op: str) -> Tensor:
    """static_k / static_v, given as (N*H, S, d), as (N, H, S, d)."""
    if static.ndim != 3 or static.shape[0] != batch * num_heads or static.shape[2] != head_dim:
        raise ShapeError(f"{op}: static_k/static_v must be (N*num_heads, S, head_dim) = "
                         f"({batch * num_heads}, S, {head_dim}), got {tuple(static.shape)}")
    return static.reshape(batch, num_heads, static.shape[1], head_dim)


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor,
                                 Tensor | None]:
    """PyTorch's F.multi_head_attention_forward: SEQUENCE-FIRST input, query (L, N, E) or (L, E).
    Returns (output (L, N, E), attention weights (N, L, S) averaged over heads, per head
    (N, H, L, S), or None when ``need_weights`` is False)."""
    op = "multi_head_attention_forward"
    if query.shape[-1] != embed_dim_to_check:
        raise ShapeError(f"{op}: expected embedding dim {embed_dim_to_check}, got query of shape "
                         f"{tuple(query.shape)}")
    separate = None
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{op}: use_separate_proj_weight=True needs q_proj_weight, k_proj_weight and "
                             "v_proj_weight")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    elif in_proj_weight is None:
        raise ValueError(f"{op}: in_proj_weight is None (pass use_separate_proj_weight=True and the q/k/v "
                         "weights)")
    batched = query.ndim == 3
    if batched:
        query, key, value = _same_way(query, key, value, lambda x: shape.transpose(x, 0, 1))
    output, weights = attend(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                             add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                             key_padding_mask, need_weights, attn_mask, separate, static_k, static_v,
                             average_attn_weights, is_causal, op)
    return (shape.transpose(output, 0, 1) if batched else output), weights
