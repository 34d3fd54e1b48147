"""What ``chainrule.ops.methods.bind()`` attaches to Tensor, declared for type checkers.

Tensor's operators and most of its methods are the op table's functions bound at import
(``t.exp()`` is ``ops.exp(t)``, ``a + b`` is ``ops.add(a, b)``; see ops/methods.py), so a type
checker reading tensor.py alone would not see them. ``Tensor`` derives from ``TensorMethods``
only while being type-checked (``if TYPE_CHECKING`` in tensor.py; at run time its base is
``object``), and this file is never imported. Most entries name the bound function itself, so a
method's signature is the function's (its first parameter becomes ``self``); the rest -- reflected
operators, in-place variants made by a factory, small conveniences -- are declared here.
tests/test_types.py checks that this file and the tables in ops/methods.py name the same methods.
"""

import builtins
from collections.abc import Iterator

from . import autograd
from ._typing import ArrayLike, DTypeLike, Index, IntIndices, Number, Operand, Size
from .ops import (
    activations,
    arithmetic,
    compare,
    elementwise,
    histograms,
    indexing,
    linalg,
    matrices,
    rearrange,
    reductions,
    scans,
    shape,
    sorting,
    unary,
)
from .tensor import Tensor

class TensorMethods:
    # --- bound functions of the op table (ops/methods.py, ops/extra_methods.py) ---------------
    __add__ = arithmetic.add
    __sub__ = arithmetic.sub
    __mul__ = arithmetic.mul
    __truediv__ = arithmetic.div
    __floordiv__ = arithmetic.floor_divide
    __mod__ = arithmetic.remainder
    __pow__ = arithmetic.pow
    __matmul__ = arithmetic.matmul
    __neg__ = arithmetic.neg
    __abs__ = unary.abs
    __eq__ = compare.eq  # type: ignore[assignment]  # a bool tensor, as in PyTorch
    __ne__ = compare.ne  # type: ignore[assignment]
    __lt__ = compare.lt
    __le__ = compare.le
    __gt__ = compare.gt
    __ge__ = compare.ge
    __and__ = compare.bitwise_and
    __or__ = compare.bitwise_or
    __invert__ = compare.invert
    __getitem__ = indexing.getitem
    mul = arithmetic.mul
    div = arithmetic.div
    pow = arithmetic.pow
    neg = arithmetic.neg
    matmul = arithmetic.matmul
    mm = matrices.mm
    maximum = arithmetic.maximum
    minimum = arithmetic.minimum
    clamp = arithmetic.clamp
    clip = arithmetic.clamp
    masked_fill = arithmetic.masked_fill
    exp = unary.exp
    log = unary.log
    log1p = unary.log1p
    sqrt = unary.sqrt
    abs = unary.abs
    sin = unary.sin
    cos = unary.cos
    erf = unary.erf
    sign = unary.sign
    floor = unary.floor
    ceil = unary.ceil
    round = unary.round
    trunc = unary.trunc
    fix = unary.trunc
    floor_divide = arithmetic.floor_divide
    remainder = arithmetic.remainder
    fmod = arithmetic.fmod
    isnan = unary.isnan
    isfinite = unary.isfinite
    clone = unary.clone
    relu = activations.relu
    leaky_relu = activations.leaky_relu
    sigmoid = activations.sigmoid
    tanh = activations.tanh
    gelu = activations.gelu
    softplus = activations.softplus
    softmax = activations.softmax
    log_softmax = activations.log_softmax
    logsumexp = activations.logsumexp
    sum = reductions.sum
    mean = reductions.mean
    max = reductions.max
    min = reductions.min
    amax = reductions.amax
    amin = reductions.amin
    var = reductions.var
    std = reductions.std
    argmax = reductions.argmax
    argmin = reductions.argmin
    all = reductions.all
    any = reductions.any
    reshape = shape.reshape
    view = shape.view
    flatten = shape.flatten
    squeeze = shape.squeeze
    unsqueeze = shape.unsqueeze
    permute = shape.permute
    transpose = shape.transpose
    swapaxes = shape.swapaxes
    expand = shape.expand
    expand_as = shape.expand_as
    broadcast_to = shape.broadcast_to
    gather = shape.gather
    contiguous = shape.contiguous
    split = indexing.split
    chunk = indexing.chunk
    eq = compare.eq
    ne = compare.ne
    lt = compare.lt
    le = compare.le
    gt = compare.gt
    ge = compare.ge
    logical_not = compare.logical_not
    logical_and = compare.logical_and
    logical_or = compare.logical_or
    equal = compare.equal
    allclose = compare.allclose
    to = unary.to
    type = unary.type_
    register_hook = autograd.register_hook
    register_post_accumulate_grad_hook = autograd.register_post_accumulate_grad_hook
    __xor__ = elementwise.bitwise_xor
    log10 = elementwise.log10
    log2 = elementwise.log2
    exp2 = elementwise.exp2
    expm1 = elementwise.expm1
    rsqrt = elementwise.rsqrt
    reciprocal = elementwise.reciprocal
    square = elementwise.square
    tan = elementwise.tan
    asin = elementwise.asin
    acos = elementwise.acos
    atan = elementwise.atan
    arcsin = elementwise.asin
    arccos = elementwise.acos
    arctan = elementwise.atan
    sinh = elementwise.sinh
    cosh = elementwise.cosh
    asinh = elementwise.asinh
    acosh = elementwise.acosh
    atanh = elementwise.atanh
    arcsinh = elementwise.asinh
    arccosh = elementwise.acosh
    arctanh = elementwise.atanh
    frac = elementwise.frac
    sgn = elementwise.sgn
    signbit = elementwise.signbit
    atan2 = elementwise.atan2
    arctan2 = elementwise.atan2
    hypot = elementwise.hypot
    logaddexp = elementwise.logaddexp
    logaddexp2 = elementwise.logaddexp2
    xlogy = elementwise.xlogy
    lerp = elementwise.lerp
    clamp_min = elementwise.clamp_min
    clamp_max = elementwise.clamp_max
    nan_to_num = elementwise.nan_to_num
    addcmul = elementwise.addcmul
    addcdiv = elementwise.addcdiv
    deg2rad = elementwise.deg2rad
    rad2deg = elementwise.rad2deg
    isinf = elementwise.isinf
    isposinf = elementwise.isposinf
    isneginf = elementwise.isneginf
    isreal = elementwise.isreal
    isclose = elementwise.isclose
    logical_xor = elementwise.logical_xor
    bitwise_xor = elementwise.bitwise_xor
    bitwise_not = elementwise.bitwise_not
    bitwise_and = compare.bitwise_and
    bitwise_or = compare.bitwise_or
    cumsum = scans.cumsum
    cumprod = scans.cumprod
    cummax = scans.cummax
    cummin = scans.cummin
    logcumsumexp = scans.logcumsumexp
    prod = scans.prod
    sort = sorting.sort
    argsort = sorting.argsort
    msort = sorting.msort
    topk = sorting.topk
    kthvalue = sorting.kthvalue
    median = sorting.median
    nanmedian = sorting.nanmedian
    mode = sorting.mode
    unique = sorting.unique
    unique_consecutive = sorting.unique_consecutive
    tril = matrices.tril
    triu = matrices.triu
    diag = matrices.diag
    diagonal = matrices.diagonal
    diag_embed = matrices.diag_embed
    trace = matrices.trace
    outer = matrices.outer
    ger = matrices.ger
    kron = matrices.kron
    bmm = matrices.bmm
    mv = matrices.mv
    dot = matrices.dot
    vdot = matrices.vdot
    addmm = matrices.addmm
    addmv = matrices.addmv
    baddbmm = matrices.baddbmm
    addbmm = matrices.addbmm
    norm = linalg.tensor_norm
    fliplr = rearrange.fliplr
    flipud = rearrange.flipud
    rot90 = rearrange.rot90
    roll = rearrange.roll
    narrow = rearrange.narrow
    select = rearrange.select
    unbind = rearrange.unbind
    index_select = rearrange.index_select
    index_add = rearrange.index_add
    take = rearrange.take
    repeat = rearrange.repeat
    repeat_interleave = rearrange.repeat_interleave
    masked_select = rearrange.masked_select
    take_along_dim = rearrange.take_along_dim
    nonzero = rearrange.nonzero
    argwhere = rearrange.argwhere
    movedim = rearrange.movedim
    moveaxis = rearrange.movedim
    swapdims = rearrange.swapdims
    unflatten = rearrange.unflatten
    histc = histograms.histc
    histogram = histograms.histogram
    bincount = histograms.bincount

    # --- reflected operators: ``2.0 * t`` is ``mul(2.0, t)`` ---------------------------------
    def __radd__(self, other: Operand) -> Tensor: ...
    def __rsub__(self, other: Operand) -> Tensor: ...
    def __rmul__(self, other: Operand) -> Tensor: ...
    def __rtruediv__(self, other: Operand) -> Tensor: ...
    def __rfloordiv__(self, other: Operand) -> Tensor: ...
    def __rmod__(self, other: Operand) -> Tensor: ...
    def __rpow__(self, other: Operand) -> Tensor: ...
    def __rmatmul__(self, other: Operand) -> Tensor: ...
    def __rand__(self, other: Operand) -> Tensor: ...
    def __ror__(self, other: Operand) -> Tensor: ...
    def __rxor__(self, other: Operand) -> Tensor: ...
    def __pos__(self) -> Tensor: ...
    def __setitem__(self, index: Index, value: Operand) -> None: ...
    def __iter__(self) -> Iterator[Tensor]: ...

    # --- methods with their own wrapper in ops/methods.py -----------------------------------
    def add(self, other: Operand, alpha: Number = 1) -> Tensor: ...
    def sub(self, other: Operand, alpha: Number = 1) -> Tensor: ...
    def float(self) -> Tensor: ...
    def double(self) -> Tensor: ...
    def half(self) -> Tensor: ...
    def long(self) -> Tensor: ...
    def int(self) -> Tensor: ...
    def bool(self) -> Tensor: ...
    def type_as(self, other: Tensor) -> Tensor: ...
    def backward(self, gradient: Tensor | None = None, retain_graph: builtins.bool | None = None,
                 create_graph: builtins.bool = False) -> None: ...
    def retain_grad(self) -> None: ...
    def fill_(self, value: Operand) -> Tensor: ...
    def copy_(self, source: Operand, non_blocking: builtins.bool = False) -> Tensor: ...
    def zero_(self) -> Tensor: ...
    def uniform_(self, low: builtins.float = 0.0, high: builtins.float = 1.0) -> Tensor: ...
    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0) -> Tensor: ...
    def flip(self, *dims: Size) -> Tensor: ...
    def tile(self, *dims: Size) -> Tensor: ...
    def index_add_(self, dim: builtins.int, index: IntIndices, source: Tensor, *,
                   alpha: Number = 1) -> Tensor: ...
    def t(self) -> Tensor: ...
    def view_as(self, other: Tensor) -> Tensor: ...
    def nelement(self) -> builtins.int: ...
    def ndimension(self) -> builtins.int: ...
    def is_contiguous(self, memory_format: object = None) -> builtins.bool: ...
    def new_zeros(self, *size: Size, dtype: DTypeLike | None = None,
                  requires_grad: builtins.bool = False) -> Tensor: ...
    def new_ones(self, *size: Size, dtype: DTypeLike | None = None,
                 requires_grad: builtins.bool = False) -> Tensor: ...
    def new_empty(self, *size: Size, dtype: DTypeLike | None = None,
                  requires_grad: builtins.bool = False) -> Tensor: ...
    def new_full(self, size: Size, fill_value: Number, *, dtype: DTypeLike | None = None,
                 requires_grad: builtins.bool = False) -> Tensor: ...
    def new_tensor(self, data: ArrayLike, dtype: DTypeLike | None = None,
                   requires_grad: builtins.bool = False) -> Tensor: ...
    @property
    def T(self) -> Tensor: ...
    @property
    def mT(self) -> Tensor: ...

    # --- in place: ``t.add_(u)`` and ``t += u`` write into t and return it ------------------------
    def add_(self, other: Operand) -> Tensor: ...
    def sub_(self, other: Operand) -> Tensor: ...
    def mul_(self, other: Operand) -> Tensor: ...
    def div_(self, other: Operand) -> Tensor: ...
    def floor_divide_(self, other: Operand) -> Tensor: ...
    def remainder_(self, other: Operand) -> Tensor: ...
    def __iadd__(self, other: Operand) -> Tensor: ...  # type: ignore[misc]
    def __isub__(self, other: Operand) -> Tensor: ...  # type: ignore[misc]
    def __imul__(self, other: Operand) -> Tensor: ...  # type: ignore[misc]
    def __itruediv__(self, other: Operand) -> Tensor: ...  # type: ignore[misc]
    def __ifloordiv__(self, other: Operand) -> Tensor: ...  # type: ignore[misc]
    def __imod__(self, other: Operand) -> Tensor: ...  # type: ignore[misc]
    clamp_ = arithmetic.clamp
    clip_ = arithmetic.clamp
    masked_fill_ = arithmetic.masked_fill
    relu_ = activations.relu
    sigmoid_ = activations.sigmoid
    tanh_ = activations.tanh
    exp_ = unary.exp
    log_ = unary.log
    sqrt_ = unary.sqrt
    abs_ = unary.abs
    neg_ = arithmetic.neg
    pow_ = arithmetic.pow
    floor_ = unary.floor
    ceil_ = unary.ceil
    round_ = unary.round
    trunc_ = unary.trunc
    sign_ = unary.sign
    sin_ = unary.sin
    cos_ = unary.cos
    log1p_ = unary.log1p
    erf_ = unary.erf
    leaky_relu_ = activations.leaky_relu
