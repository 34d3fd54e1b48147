"""MultiheadAttention: PyTorch's layer, its parameters, names and initialisation.

    in_proj_weight (3E, E) = [W_q; W_k; W_v] and in_proj_bias (3E,)    when kdim = vdim = E
    q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim)   otherwise
    out_proj: Linear(E, E)                 bias_k, bias_v (1, 1, E) with add_bias_kv=True

    output = concat_h softmax(Q_h K_h^T / sqrt(E/H) + mask) V_h  W_o^T + b_o
    (the math and masks: ``functional_attention.py``; the fused attention: ``ops/attention.py``)

Initialisation as PyTorch's: Xavier-uniform projection weights, zero in-projection and
out-projection biases, Xavier-normal bias_k/bias_v, out_proj.weight as any Linear's.

Where PyTorch switches to its "fast path" (evaluation, no gradient, batch_first self-attention)
the numbers are the same; what that path changes (nested tensors) does not exist here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import ShapeError
from ..ops import shape
from . import init
from .functional_attention import _same_way, attend
from .linear import Linear
from .module import Module, Parameter

if TYPE_CHECKING:
    from .._typing import DeviceLike, DTypeLike
    from ..tensor import Tensor


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention.out_proj (so the repr reads the same)."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of size embed_dim / num_heads (PyTorch's nn.MultiheadAttention).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
            average_attn_weights=True, is_causal=False) -> (output, weights or None)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        check_device(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ShapeError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = self.embed_dim // self.num_heads
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((e, e), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((e, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((e, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * e,), dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k: Parameter | None = Parameter(np.empty((1, 1, e), dtype=dtype))
            self.bias_v: Parameter | None = Parameter(np.empty((1, 1, e), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        if query.ndim == 3 and not self.batch_first:   # the math runs batch-first
            query, key, value = _same_way(query, key, value, lambda x: shape.transpose(x, 0, 1))
        separate = None if self._qkv_same_embed_dim else (self.q_proj_weight, self.k_proj_weight,
                                                          self.v_proj_weight)
        if query.ndim in (2, 3) and query.shape[-1] != self.embed_dim:
            raise ShapeError(f"{self!r}: expected query with last dim {self.embed_dim}, got shape "
                             f"{tuple(query.shape)}")
        output, weights = attend(
            query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            self.training, key_padding_mask, need_weights, attn_mask, separate, None, None,
            average_attn_weights, is_causal, op=type(self).__name__)
        if query.ndim == 3 and not self.batch_first:
            output = shape.transpose(output, 0, 1)
        return output, weights
