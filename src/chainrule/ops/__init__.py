"""The derivative table: every primitive's forward and vector-Jacobian products, side by side.

    arithmetic.py   + - * / ** @, maximum, minimum, clamp, where
    unary.py        exp, log, log1p, sqrt, abs, sin, cos, erf, clone, dtype casts
    activations.py  relu, leaky_relu, sigmoid, tanh, gelu, softplus, softmax, log_softmax, logsumexp
    reductions.py   sum, mean, amax/amin, max/min, var, std, argmax/argmin
    shape.py        reshape, permute, expand/broadcast_to, gather (+ view, squeeze, transpose...)
    indexing.py     x[index], scatter, cat, pad (+ stack, split, chunk)
    compare.py      == != < <= > >= and logic (no gradient)
    convolution.py  conv1d, conv2d (im2col + one matmul; VJPs are convolutions again)
    pooling.py      max/avg pooling 1-D and 2-D, adaptive_avg_pool (windows.py: the shared geometry)
    linear.py       linear (x W^T + b, one node), embedding lookup
    losses.py       cross_entropy (fused, stable), nll_loss, binary_cross_entropy(_with_logits)
    regression_losses.py  mse_loss, l1_loss, smooth_l1_loss, huber_loss, kl_div
    similarity.py   cosine_similarity, pairwise_distance, cosine_embedding_loss
    normalization.py  batch_norm, layer_norm (normalise, scale, shift: one node)
"""

from .. import autograd
from .activations import gelu, leaky_relu, log_softmax, logsumexp, relu, sigmoid, softmax, softplus, tanh
from .arithmetic import add, clamp, div, masked_fill, matmul, maximum, minimum, mul, neg, pow, sub, where
from .compare import (
    allclose,
    eq,
    equal,
    ge,
    gt,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from .convolution import conv1d, conv2d
from .indexing import cat, chunk, concatenate, getitem, pad, scatter_add, split, stack
from .linear import embedding, linear
from .losses import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, nll_loss
from .methods import bind
from .namespaces import ARRAYS, TENSORS
from .normalization import batch_norm, layer_norm
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .reductions import all, amax, amin, any, argmax, argmin, max, mean, min, std, sum, var
from .regression_losses import mse_loss
from .shape import (
    broadcast_to,
    expand,
    flatten,
    gather,
    permute,
    reshape,
    squeeze,
    swapaxes,
    transpose,
    unsqueeze,
    view,
)
from .unary import (
    abs,
    ceil,
    clone,
    cos,
    erf,
    exp,
    floor,
    isfinite,
    isnan,
    log,
    log1p,
    round,
    sign,
    sin,
    sqrt,
    to,
)

bind()
autograd.register_namespaces(ARRAYS, TENSORS)

clip = clamp
true_divide = div
multiply = mul
subtract = sub
absolute = abs

__all__ = [
    "abs", "absolute", "add", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "broadcast_to",
    "cat", "ceil", "chunk", "clamp", "clip", "clone", "concatenate", "cos", "div", "eq", "equal", "erf",
    "exp", "expand", "flatten", "floor", "gather", "ge", "gelu", "getitem", "gt", "isfinite", "isnan",
    "le", "leaky_relu", "log", "log1p", "log_softmax", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logsumexp", "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum",
    "mul", "multiply", "ne", "neg", "pad", "permute", "pow", "relu", "reshape", "round", "scatter_add",
    "sigmoid", "sign", "sin", "softmax", "softplus", "split", "sqrt", "squeeze", "stack", "std", "sub",
    "subtract", "sum", "swapaxes", "tanh", "to", "transpose", "true_divide", "unsqueeze", "var", "view",
    "where",
]
__all__ += ["conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
            "adaptive_avg_pool1d", "adaptive_avg_pool2d"]
