"""nn.functional (F): the layers as plain functions, with PyTorch's names and arguments.

    import chainrule.nn.functional as F
    loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), labels)

Each function here is a thin argument-checking wrapper; the math and its derivative live in the
op table (``chainrule/ops``): linear.py, activations.py, losses.py, regression_losses.py,
similarity.py, normalization.py, indexing.py, convolution.py, pooling.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops import activations as _activations
from ..ops import arithmetic as _arithmetic
from ..ops import convolution as _convolution
from ..ops import indexing as _indexing
from ..ops import linalg as _linalg
from ..ops import losses as _losses
from ..ops import normalization as _normalization
from ..ops import pooling as _pooling
from ..ops import regression_losses as _regression_losses
from ..ops import similarity as _similarity
from ..ops.attention import dropout_keep
from ..ops.linear import embedding as _embedding
from ..ops.linear import linear as linear  # re-exported: F.linear
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import DTypeLike, Size

# --- layers ---------------------------------------------------------------------------------
batch_norm = _normalization.batch_norm
layer_norm = _normalization.layer_norm
pad = _indexing.pad
conv1d = _convolution.conv1d
conv2d = _convolution.conv2d
max_pool1d = _pooling.max_pool1d
max_pool2d = _pooling.max_pool2d
avg_pool1d = _pooling.avg_pool1d
avg_pool2d = _pooling.avg_pool2d
adaptive_avg_pool1d = _pooling.adaptive_avg_pool1d
adaptive_avg_pool2d = _pooling.adaptive_avg_pool2d


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer tensor ``input``; row ``padding_idx`` gets no gradient.

    With ``max_norm``, every row about to be looked up whose ``norm_type``-norm exceeds max_norm is
    first scaled in place (outside the graph, as PyTorch does) to norm max_norm:
    row <- row * max_norm / (norm + 1e-7)."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    if max_norm is not None:
        _renorm_rows(input, weight, float(max_norm), float(norm_type))
    return _embedding(input, weight, padding_idx)


def _renorm_rows(input: Tensor, weight: Tensor, max_norm: float, norm_type: float) -> None:
    """PyTorch's embedding_renorm_: the looked-up rows whose norm exceeds max_norm, scaled down in
    place. Out-of-range indices are left to the lookup, which names them."""
    index = np.asarray(input._data if isinstance(input, Tensor) else input)
    table = weight._data
    if index.dtype.kind not in "iu" or not index.size or index.min() < 0 or index.max() >= table.shape[0]:
        return
    rows = np.unique(index)
    values = table[rows]
    if norm_type == np.inf:
        norms = np.abs(values).max(axis=1)
    else:
        norms = (np.abs(values) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(table.dtype)
        table[rows[over]] = values[over] * scale[:, None]
        weight._version += 1   # like any in-place change (only when a row did change)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training).

    y = x * m / (1 - p), m ~ Bernoulli(1 - p);  dL/dx = g * m / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if input.dtype.kind != "f":
        raise DTypeError(f"dropout: needs a floating-point input, got {input.dtype} with shape {input.shape}")
    if p == 1.0:
        return input * 0.0
    keep = dropout_keep(input.shape, p, input.dtype)   # the mask is an op: drawn anew (0 < p < 1: not None)
    return _arithmetic.mul(input, keep)  # type: ignore[arg-type]


# --- activations ----------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _activations.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _activations.leaky_relu(input, negative_slope)


sigmoid = _activations.sigmoid
tanh = _activations.tanh
gelu = _activations.gelu
softplus = _activations.softplus
logsumexp = _activations.logsumexp


def _softmax_dim(dim: int | None, ndim: int) -> int:
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-D input, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    return _activations.softmax(input, _softmax_dim(dim, input.ndim))


def log_softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (stable)."""
    if dtype is not None:
        input = input.to(dtype)
    return _activations.log_softmax(input, _softmax_dim(dim, input.ndim))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _activations.silu(input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return _activations.elu(input, alpha)


# --- losses ---------------------------------------------------------------------------------
cross_entropy = _losses.cross_entropy
nll_loss = _losses.nll_loss
binary_cross_entropy_with_logits = _losses.binary_cross_entropy_with_logits
binary_cross_entropy = _losses.binary_cross_entropy
mse_loss = _regression_losses.mse_loss
l1_loss = _regression_losses.l1_loss
smooth_l1_loss = _regression_losses.smooth_l1_loss
huber_loss = _regression_losses.huber_loss
kl_div = _regression_losses.kl_div
cosine_embedding_loss = _similarity.cosine_embedding_loss

# --- similarities and distances -------------------------------------------------------------
cosine_similarity = _similarity.cosine_similarity
pairwise_distance = _similarity.pairwise_distance


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``: unit vectors (F.normalize); a vector shorter
    than ``eps`` is divided by eps, so zeros stay zeros with a zero gradient. Built from
    vector_norm, clamp and division, whose derivatives give this one's."""
    if out is not None:
        raise ArgumentError("normalize: out= is not supported (use the returned tensor)")
    norm = _linalg.vector_norm(input, ord=p, dim=dim, keepdim=True)
    return input / _arithmetic.clamp(norm, min=eps)


# --- helpers --------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape tensor.shape + (num_classes,) with a 1 at each index."""
    index = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: needs an integer (int64) tensor of class indices, got {index.dtype} "
                         f"with shape {index.shape}")
    if index.size and index.min() < 0:
        raise ShapeError(f"one_hot: class values must be non-negative, got {int(index.min())}")
    if num_classes < 0:
        num_classes = int(index.max()) + 1 if index.size else 0
    elif index.size and index.max() >= num_classes:
        raise ShapeError(f"one_hot: class value {int(index.max())} is out of range for "
                         f"num_classes={num_classes}")
    out = np.zeros(index.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, index[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._wrap(out)


# --- attention and the layers learners build next (issue 15) ---------------------------------
#   ops/attention.py          scaled_dot_product_attention (one fused primitive, hand-written VJP)
#   functional_attention.py   multi_head_attention_forward (PyTorch's sequence-first function)
#   conv_transpose.py         conv_transpose1d/2d (convolution's input-gradient, run forward)
#   group_norm.py             group_norm (the normalisation primitive over channel groups)
#   upsampling.py             interpolate (a linear map along each spatial axis)
#   hard_activations.py       hardtanh, relu6, hardsigmoid, hardswish (PyTorch's kink gradients)
from ..ops import hard_activations as _hard  # noqa: E402
from ..ops.attention import scaled_dot_product_attention as scaled_dot_product_attention  # noqa: E402
from ..ops.conv_transpose import conv_transpose1d as conv_transpose1d  # noqa: E402
from ..ops.conv_transpose import conv_transpose2d as conv_transpose2d  # noqa: E402
from ..ops.group_norm import group_norm as group_norm  # noqa: E402
from ..ops.upsampling import interpolate as interpolate  # noqa: E402
from .functional_attention import multi_head_attention_forward as multi_head_attention_forward  # noqa: E402

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def upsample(input: Tensor, size: Size | None = None, scale_factor: float | Sequence[float] | None = None,
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """PyTorch's older name of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Size | None = None,
                     scale_factor: float | Sequence[float] | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Size | None = None,
                      scale_factor: float | Sequence[float] | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    return _hard.hardtanh(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return _hard.relu6(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _hard.hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _hard.hardswish(input)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return _activations.elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^(x/alpha) - 1) otherwise: alpha * elu(x / alpha)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _activations.elu(input / alpha, 1.0) * alpha


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x)) (Misra, 2019)."""
    return input * _activations.tanh(_activations.softplus(input))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - _activations.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -_activations.softplus(-input)
