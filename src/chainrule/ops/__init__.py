"""The derivative table: every primitive's forward, its vector-Jacobian products (reverse mode,
backward) and its Jacobian-vector product (forward mode, chainrule.forward_ad), side by side.

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

from .. import primitive
from .activations import gelu, leaky_relu, log_softmax, logsumexp, relu, sigmoid, softmax, softplus, tanh
from .arithmetic import (
    add,
    clamp,
    div,
    floor_divide,
    fmod,
    masked_fill,
    matmul,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    remainder,
    sub,
    where,
)
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
    trunc,
)

bind()
primitive.register_namespaces(ARRAYS, TENSORS)

clip = clamp
true_divide = div
multiply = mul
subtract = sub
absolute = abs
fix = trunc

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
__all__ += ["floor_divide", "fmod", "remainder", "trunc", "fix"]
__all__ += ["conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
            "adaptive_avg_pool1d", "adaptive_avg_pool2d"]

# --- ops-surface: the rest of PyTorch's tensor functions (issue 14) ---------------------------
#   elementwise.py  log10, log2, exp2, expm1, rsqrt, reciprocal, square, tan, asin..atanh, atan2,
#                   hypot, logaddexp, lerp, xlogy, remainder, fmod, nan_to_num, isinf, isclose...
#   scans.py        cumsum, cumprod, cummax, cummin, logcumsumexp, prod
#   sorting.py      sort, argsort, topk, kthvalue, median, mode, unique
#   matrices.py     tril, triu, diagonal, diag, diag_embed, trace, outer, kron, mm, bmm, mv, dot, addmm...
#   einsum.py       einsum (its VJPs are einsums)
#   linalg.py       cr.linalg.vector_norm / matrix_norm / norm, and cr.norm
#   rearrange.py    flip, roll, repeat, tile, narrow, select, unbind, index_select, index_add,
#                   repeat_interleave, masked_select, take_along_dim, nonzero, movedim, meshgrid...
#   histograms.py   histc, histogram, bincount, bucketize, searchsorted
from . import linalg  # noqa: E402
from .einsum import einsum  # noqa: E402
from .elementwise import (  # noqa: E402
    acos,
    acosh,
    addcdiv,
    addcmul,
    arctan2,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_not,
    bitwise_xor,
    clamp_max,
    clamp_min,
    cosh,
    deg2rad,
    exp2,
    expm1,
    frac,
    hypot,
    isclose,
    isin,
    isinf,
    isneginf,
    isposinf,
    isreal,
    lerp,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    nan_to_num,
    rad2deg,
    reciprocal,
    rsqrt,
    sgn,
    signbit,
    sinh,
    square,
    tan,
    xlogy,
)
from .histograms import bincount, bucketize, histc, histogram, searchsorted  # noqa: E402
from .linalg import tensor_norm as norm  # noqa: E402
from .matrices import (  # noqa: E402
    addbmm,
    addmm,
    addmv,
    baddbmm,
    bmm,
    diag,
    diag_embed,
    diagonal,
    dot,
    ger,
    kron,
    mm,
    mv,
    outer,
    trace,
    tril,
    triu,
    vdot,
)
from .rearrange import (  # noqa: E402
    argwhere,
    flip,
    fliplr,
    flipud,
    index_add,
    index_select,
    masked_select,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    nonzero,
    repeat_interleave,
    roll,
    rot90,
    select,
    swapdims,
    take,
    take_along_dim,
    tile,
    unbind,
    unflatten,
)
from .scans import cummax, cummin, cumprod, cumsum, logcumsumexp, prod  # noqa: E402
from .sorting import (  # noqa: E402
    argsort,
    kthvalue,
    median,
    mode,
    msort,
    nanmedian,
    sort,
    topk,
    unique,
    unique_consecutive,
)

arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
negative = neg
divide = div
__all__ += [
    "acos", "acosh", "addbmm", "addcdiv", "addcmul", "addmm", "addmv", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "argsort", "argwhere", "asin", "asinh", "atan", "atan2",
    "atanh", "baddbmm", "bincount", "bitwise_not", "bitwise_xor", "bmm", "bucketize", "clamp_max",
    "clamp_min", "cosh", "cummax", "cummin", "cumprod", "cumsum", "deg2rad", "diag", "diag_embed",
    "diagonal", "divide", "dot", "einsum", "exp2", "expm1", "fix", "flip", "fliplr", "flipud",
    "floor_divide", "fmod", "frac", "ger", "histc", "histogram", "hypot", "index_add", "index_select",
    "isclose",
    "isin", "isinf", "isneginf", "isposinf", "isreal", "kron", "kthvalue", "lerp", "linalg", "log10",
    "log2", "logaddexp", "logaddexp2", "logcumsumexp", "masked_select", "median", "meshgrid", "mm",
    "mode", "moveaxis", "movedim", "msort", "mv", "nan_to_num", "nanmedian", "narrow", "negative",
    "nonzero", "norm", "outer", "prod", "rad2deg", "reciprocal", "remainder", "repeat_interleave",
    "roll", "rot90", "rsqrt", "searchsorted", "select", "sgn", "signbit", "sinh", "sort", "square",
    "swapdims", "take", "take_along_dim", "tan", "tile", "topk", "trace", "tril", "triu", "trunc",
    "unbind", "unflatten", "unique", "unique_consecutive", "vdot", "xlogy",
]
