"""nn.functional (F): the layers as plain functions, with PyTorch's names and arguments.

    import chainrule.nn.functional as F
    loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), labels)

Each function here is a thin argument-checking wrapper; the math and its derivative live in the
op table (``chainrule/ops``): linear.py, activations.py, losses.py, regression_losses.py,
similarity.py, normalization.py, indexing.py, convolution.py, pooling.py.
"""

from __future__ import annotations

from .. import backend as B
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
from ..ops.linear import embedding as _embedding
from ..ops.linear import linear as linear  # re-exported: F.linear
from ..tensor import Tensor

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


def embedding(input, weight: Tensor, padding_idx: int | None = None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer tensor ``input``; row ``padding_idx`` gets no gradient."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    return _embedding(input, weight, padding_idx)


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
    uniform = B.rng().random(input.shape, dtype=np.float64 if input.dtype == np.float64 else np.float32)
    mask = (uniform >= p).astype(input.dtype) * np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    return _arithmetic.mul(input, Tensor._wrap(mask))


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


def _softmax_dim(dim, ndim: int) -> int:
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-D input, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    return _activations.softmax(input, _softmax_dim(dim, input.ndim))


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
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


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``: unit vectors (F.normalize); a vector shorter
    than ``eps`` is divided by eps, so zeros stay zeros with a zero gradient. Built from
    vector_norm, clamp and division, whose derivatives give this one's."""
    if out is not None:
        raise ArgumentError("normalize: out= is not supported (use the returned tensor)")
    norm = _linalg.vector_norm(input, ord=p, dim=dim, keepdim=True)
    return input / _arithmetic.clamp(norm, min=eps)


# --- helpers --------------------------------------------------------------------------------
def one_hot(tensor, num_classes: int = -1) -> Tensor:
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
