"""Tensor methods for the ops of elementwise, scans, sorting, matrices, linalg, rearrange and
histograms (``t.cumsum(0)`` is ``ops.cumsum(t, 0)``), plus PyTorch's small conveniences
(``t.t()``, ``t.nelement()``, ``t.new_zeros(...)``, ``t.view_as(other)``) and ``index_add_``, an
in-place update outside the graph (as ``add_``). ``methods.bind()`` attaches this table
together with its own; the derivatives live with the functions, never here.
"""

from __future__ import annotations

from .. import autograd, in_place
from .. import backend as B
from ..backend import np
from ..errors import GraphError, ShapeError
from ..primitive import _ForwardMode
from ..tensor import Tensor
from . import compare as C
from . import elementwise as E
from . import histograms as H
from . import linalg as L
from . import matrices as X
from . import rearrange as R
from . import scans as S
from . import sorting as O
from .arguments import sizes_arg
from .shape import transpose


def _reflected(function):
    return lambda self, other: function(other, self)


def _t(self):
    """The transpose of a matrix; vectors and 0-d tensors come back as they are (Tensor.t)."""
    if self.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dims, got shape {tuple(self.shape)} "
                         "(use transpose(dim0, dim1) or mT)")
    return transpose(self, 0, 1) if self.ndim == 2 else self


def _dtype(self, dtype):
    return self.dtype if dtype is None else B.to_dtype(dtype)


def _new_zeros(self, *size, dtype=None, requires_grad=False):
    """Zeros of ``size`` with this tensor's dtype unless ``dtype`` is given (Tensor.new_zeros)."""
    return Tensor(np.zeros(sizes_arg("new_zeros", size), _dtype(self, dtype)), requires_grad=requires_grad)


def _new_ones(self, *size, dtype=None, requires_grad=False):
    return Tensor(np.ones(sizes_arg("new_ones", size), _dtype(self, dtype)), requires_grad=requires_grad)


def _new_empty(self, *size, dtype=None, requires_grad=False):
    return _new_zeros(self, *size, dtype=dtype, requires_grad=requires_grad)


def _new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
    return Tensor(np.full(sizes_arg("new_full", (size,)), fill_value, _dtype(self, dtype)),
                  requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, requires_grad=False):
    """A new tensor from ``data`` (copied), with this tensor's dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        data = data._data
    return Tensor(np.array(data, dtype=_dtype(self, dtype)), requires_grad=requires_grad)


def _view_as(self, other):
    """``self.view(other.shape)`` (Tensor.view_as)."""
    return self.view(tuple(other.shape))


def _index_add_(self, dim, index, source, *, alpha=1):
    """``index_add`` written into this tensor; not recorded in the graph (as ``add_``)."""
    if autograd.is_grad_enabled() and (self.requires_grad or getattr(source, "requires_grad", False)):
        raise GraphError("index_add_: in-place ops are not recorded in the graph; use the out-of-place "
                         "form (x = x.index_add(dim, index, source)) for tensors that need gradients")
    follows = in_place.follows_in_place("index_add_", self, source)   # forward mode: tangents too
    old = self.clone() if follows else self   # (computed from a clone: see methods.py)
    result = R.index_add(old, dim, index, old if source is self else source, alpha=alpha)
    self._data[...] = result._data
    self._version += 1
    if follows:
        _ForwardMode.written(self, result if result.dtype == self.dtype else result.to(self.dtype))
    return self


METHODS = {
    # operators PyTorch has and the base table lacks
    "__xor__": E.bitwise_xor, "__rxor__": _reflected(E.bitwise_xor),
    # elementwise
    "log10": E.log10, "log2": E.log2, "exp2": E.exp2, "expm1": E.expm1, "rsqrt": E.rsqrt,
    "reciprocal": E.reciprocal, "square": E.square, "tan": E.tan, "asin": E.asin, "acos": E.acos,
    "atan": E.atan, "arcsin": E.asin, "arccos": E.acos, "arctan": E.atan, "sinh": E.sinh, "cosh": E.cosh,
    "asinh": E.asinh, "acosh": E.acosh, "atanh": E.atanh, "arcsinh": E.asinh, "arccosh": E.acosh,
    "arctanh": E.atanh, "frac": E.frac, "sgn": E.sgn,
    "signbit": E.signbit, "atan2": E.atan2, "arctan2": E.atan2, "hypot": E.hypot,
    "logaddexp": E.logaddexp, "logaddexp2": E.logaddexp2, "xlogy": E.xlogy, "lerp": E.lerp,
    "clamp_min": E.clamp_min, "clamp_max": E.clamp_max, "nan_to_num": E.nan_to_num,
    "addcmul": E.addcmul, "addcdiv": E.addcdiv, "deg2rad": E.deg2rad, "rad2deg": E.rad2deg,
    "isinf": E.isinf, "isposinf": E.isposinf, "isneginf": E.isneginf, "isreal": E.isreal,
    "isclose": E.isclose, "logical_xor": E.logical_xor, "bitwise_xor": E.bitwise_xor,
    "bitwise_not": E.bitwise_not, "bitwise_and": C.bitwise_and, "bitwise_or": C.bitwise_or,
    # scans and products
    "cumsum": S.cumsum, "cumprod": S.cumprod, "cummax": S.cummax, "cummin": S.cummin,
    "logcumsumexp": S.logcumsumexp, "prod": S.prod,
    # sorting and order statistics
    "sort": O.sort, "argsort": O.argsort, "msort": O.msort, "topk": O.topk, "kthvalue": O.kthvalue,
    "median": O.median, "nanmedian": O.nanmedian, "mode": O.mode, "unique": O.unique,
    "unique_consecutive": O.unique_consecutive,
    # matrices and norms
    "tril": X.tril, "triu": X.triu, "diag": X.diag, "diagonal": X.diagonal, "diag_embed": X.diag_embed,
    "trace": X.trace, "outer": X.outer, "ger": X.outer, "kron": X.kron, "mm": X.mm, "bmm": X.bmm,
    "mv": X.mv, "dot": X.dot, "vdot": X.vdot, "addmm": X.addmm, "addmv": X.addmv,
    "baddbmm": X.baddbmm, "addbmm": X.addbmm, "norm": L.tensor_norm,
    # rearranging
    "flip": lambda self, *dims: R.flip(self, sizes_arg("flip", dims)), "fliplr": R.fliplr,
    "flipud": R.flipud, "rot90": R.rot90, "roll": R.roll, "narrow": R.narrow, "select": R.select,
    "unbind": R.unbind, "index_select": R.index_select, "index_add": R.index_add,
    "index_add_": _index_add_, "take": R.take,
    "repeat": R.repeat, "tile": lambda self, *dims: R.tile(self, sizes_arg("tile", dims)),
    "repeat_interleave": R.repeat_interleave, "masked_select": R.masked_select,
    "take_along_dim": R.take_along_dim, "nonzero": R.nonzero, "argwhere": R.argwhere,
    "movedim": R.movedim, "moveaxis": R.movedim, "swapdims": R.swapdims, "unflatten": R.unflatten,
    # counting
    "histc": H.histc, "histogram": H.histogram, "bincount": H.bincount,
    # small conveniences
    "t": _t, "view_as": _view_as, "nelement": lambda self: self._data.size,
    "ndimension": lambda self: self._data.ndim,
    "is_contiguous": lambda self, memory_format=None: True,
    "new_zeros": _new_zeros, "new_ones": _new_ones, "new_empty": _new_empty, "new_full": _new_full,
    "new_tensor": _new_tensor,
}
