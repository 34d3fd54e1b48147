"""The two math namespaces a VJP can run with (its ``xp`` argument).

``ARRAYS``: NumPy functions on ndarrays — the plain, fast backward pass.
``TENSORS``: the same names as differentiable chainrule ops on Tensors — used when
``create_graph=True``, so the backward pass is itself recorded (higher-order gradients).

A VJP (and a JVP) uses operators (+ - * / @ ** comparisons), ``.reshape`` /
``.sum(axis=, keepdims=)`` methods, and these functions; each function below must mean the same
thing in both.
"""

from __future__ import annotations

from types import SimpleNamespace

from .. import backend as B
from ..backend import np
from ..primitive import apply
from ..tensor import Tensor
from . import activations, arithmetic, indexing, shape, unary

ARRAYS = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    cos=np.cos,
    sin=np.sin,
    tanh=np.tanh,
    erf=B.erf,
    sigmoid=activations.sigmoid_p.forward,
    softmax=activations.softmax_p.forward,
    sign=unary.sign_array,
    floor=np.floor,
    floor_divide=np.floor_divide,
    sqrt=np.sqrt,
    trunc=np.trunc,
    where=np.where,
    broadcast_to=np.broadcast_to,
    transpose=np.transpose,
    swapaxes=np.swapaxes,
    take_along_axis=np.take_along_axis,
    scatter_add=indexing.scatter_add_array,
    scatter_add_along=indexing.scatter_add_along_array,
    numel=lambda a: a.size,
)

TENSORS = SimpleNamespace(
    exp=unary.exp,
    log=unary.log,
    cos=unary.cos,
    sin=unary.sin,
    tanh=activations.tanh,
    erf=unary.erf,
    sigmoid=activations.sigmoid,
    softmax=activations.softmax,
    sign=unary.sign,
    floor=unary.floor,
    floor_divide=lambda a, b: arithmetic.floor_divide(a.detach(), b.detach()),
    sqrt=unary.sqrt,
    trunc=unary.trunc,
    where=arithmetic.where,
    broadcast_to=shape.broadcast_to,
    transpose=shape.permute,
    swapaxes=shape.transpose,
    take_along_axis=lambda t, index, axis: shape.gather(t, axis, index),
    scatter_add=indexing.scatter_add,
    scatter_add_along=indexing.scatter_add_along,
    numel=lambda t: t._data.size,
)

# --- what the VJPs of elementwise, scans, rearrange, matrices and einsum use (ops-surface) -----
from . import einsum as _einsum  # type: ignore[no-redef]  # noqa: E402 - kept beside the names they add, for merging
from . import elementwise as _elementwise  # noqa: E402
from . import matrices as _matrices  # noqa: E402
from . import rearrange as _rearrange  # noqa: E402
from . import scans as _scans  # noqa: E402

vars(ARRAYS).update(
    cosh=np.cosh, sinh=np.sinh, isfinite=np.isfinite,
    flip=np.flip, roll=np.roll, tril=np.tril, triu=np.triu, einsum=_einsum.einsum_arrays,
    cumsum=lambda a, axis: np.cumsum(a, axis=axis), cumprod=lambda a, axis: np.cumprod(a, axis=axis),
    logcumsumexp=_scans.logcumsumexp_p.forward)
vars(TENSORS).update(
    cosh=_elementwise.cosh, sinh=_elementwise.sinh, isfinite=unary.isfinite,
    flip=_rearrange.flip, roll=_rearrange.roll, tril=_matrices.tril,
    triu=_matrices.triu, einsum=_einsum.einsum, cumsum=_scans.cumsum, cumprod=_scans.cumprod,
    logcumsumexp=_scans.logcumsumexp)

# --- what the JVPs (forward mode) use besides: a primitive applied to arrays or to Tensors -------
vars(ARRAYS).update(call=lambda prim, *inputs, **params: prim.forward(*inputs, **params))
vars(TENSORS).update(call=lambda prim, *inputs, **params: apply(prim, tuple(
    t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in inputs), params))

assert set(vars(ARRAYS)) == set(vars(TENSORS)), "the two VJP namespaces must offer the same functions"
