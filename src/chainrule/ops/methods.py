"""Tensor's operators and methods, each bound to the one function in the op table that does it.

``t.exp()`` is ``ops.exp(t)``, ``a + b`` is ``ops.add(a, b)``: the derivative lives with the
function, never again here. In-place methods (``add_``, ``mul_``, ``-=``...) change ``data`` and
bump the tensor's version so that a backward needing the old values refuses to run.
"""

from __future__ import annotations

from .. import autograd
from ..backend import np, rng
from ..errors import ArgumentError, GraphError
from ..tensor import Tensor
from . import activations as A
from . import arithmetic as M
from . import compare as C
from . import indexing as I
from . import reductions as R
from . import shape as S
from . import unary as U
from .extra_methods import METHODS as SURFACE_METHODS


def _reflected(function):
    return lambda self, other: function(other, self)


def _check_inplace(t: Tensor, other, what: str) -> bool:
    """True when the in-place change would have to be recorded in the graph."""
    other_grad = isinstance(other, Tensor) and other.requires_grad
    if not autograd.is_grad_enabled() or not (t.requires_grad or other_grad):
        return False
    if t._prim is None and t.requires_grad:
        raise GraphError(
            f"{what}: a leaf tensor (shape {t.shape}) that requires grad cannot be changed in place "
            "while grad is recorded; wrap the update in `with cr.no_grad():`")
    return True


def _inplace(ufunc, function, name):
    """An in-place method (``add_``) and the matching augmented operator (``__iadd__``)."""

    def method(self, other):
        if _check_inplace(self, other, name):
            raise GraphError(f"{name}: in-place ops are not recorded in the graph; use the out-of-place "
                             f"form (x = x {name[:-1]} y) for tensors that need gradients")
        value = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, value, out=self._data, casting="same_kind")
        except (ValueError, TypeError) as err:
            raise GraphError(f"{name}: cannot update a tensor of shape {self.shape} {self.dtype} in place "
                             f"with {np.shape(value)} {getattr(value, 'dtype', type(value).__name__)}: {err}"
                             ) from None
        self._version += 1
        return self

    def augmented(self, other):
        if _check_inplace(self, other, name):
            return function(self, other)  # recorded out of place; Python rebinds the name
        return method(self, other)

    method.__name__ = name
    return method, augmented


def _setitem(self, index, value):
    if _check_inplace(self, value, "__setitem__"):
        raise GraphError("x[index] = value cannot be recorded in the graph; build the tensor with "
                         "cr.where, cr.cat or masked_fill instead")
    self._data[I.normalize_index(index)] = value._data if isinstance(value, Tensor) else value
    self._version += 1


def _fill_(self, value):
    _setitem(self, Ellipsis, value)
    return self


def _copy_(self, source):
    _setitem(self, Ellipsis, source)
    return self


def _uniform_(self, low=0.0, high=1.0):
    return _copy_(self, rng().uniform(low, high, self.shape).astype(self.dtype))


def _normal_(self, mean=0.0, std=1.0):
    return _copy_(self, (rng().standard_normal(self.shape) * std + mean).astype(self.dtype))


def _iter(self):
    if self.ndim == 0:
        raise ArgumentError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield I.getitem(self, i)


def _backward(self, gradient=None, retain_graph=None, create_graph=False):
    autograd.backward(self, gradient, retain_graph, create_graph)


def _retain_grad(self):
    autograd.retain_grad(self)


def _scaled(other, alpha):
    return other if alpha == 1 else M.mul(other, alpha)


def _add(self, other, alpha=1):
    return M.add(self, _scaled(other, alpha))


def _sub(self, other, alpha=1):
    return M.sub(self, _scaled(other, alpha))


_OPERATORS = {
    "__add__": M.add, "__radd__": _reflected(M.add),
    "__sub__": M.sub, "__rsub__": _reflected(M.sub),
    "__mul__": M.mul, "__rmul__": _reflected(M.mul),
    "__truediv__": M.div, "__rtruediv__": _reflected(M.div),
    "__floordiv__": M.floor_divide, "__rfloordiv__": _reflected(M.floor_divide),
    "__mod__": M.remainder, "__rmod__": _reflected(M.remainder),
    "__pow__": M.pow, "__rpow__": _reflected(M.pow),
    "__matmul__": M.matmul, "__rmatmul__": _reflected(M.matmul),
    "__neg__": M.neg, "__pos__": lambda self: self, "__abs__": U.abs,
    "__eq__": C.eq, "__ne__": C.ne, "__lt__": C.lt, "__le__": C.le, "__gt__": C.gt, "__ge__": C.ge,
    "__and__": C.bitwise_and, "__or__": C.bitwise_or, "__invert__": C.invert,
    "__rand__": _reflected(C.bitwise_and), "__ror__": _reflected(C.bitwise_or),
    "__getitem__": I.getitem, "__setitem__": _setitem, "__iter__": _iter,
}

_METHODS = {
    # arithmetic
    "add": _add, "sub": _sub, "mul": M.mul, "div": M.div, "pow": M.pow, "neg": M.neg,
    "matmul": M.matmul, "mm": M.matmul, "maximum": M.maximum, "minimum": M.minimum,
    "clamp": M.clamp, "clip": M.clamp, "masked_fill": M.masked_fill,
    # elementwise
    "exp": U.exp, "log": U.log, "log1p": U.log1p, "sqrt": U.sqrt, "abs": U.abs, "sin": U.sin,
    "cos": U.cos, "erf": U.erf, "sign": U.sign, "floor": U.floor, "ceil": U.ceil, "round": U.round,
    "trunc": U.trunc, "fix": U.trunc, "floor_divide": M.floor_divide, "remainder": M.remainder,
    "fmod": M.fmod,
    "isnan": U.isnan, "isfinite": U.isfinite, "clone": U.clone,
    # activations
    "relu": A.relu, "leaky_relu": A.leaky_relu, "sigmoid": A.sigmoid, "tanh": A.tanh, "gelu": A.gelu,
    "softplus": A.softplus, "softmax": A.softmax, "log_softmax": A.log_softmax, "logsumexp": A.logsumexp,
    # reductions
    "sum": R.sum, "mean": R.mean, "max": R.max, "min": R.min, "amax": R.amax, "amin": R.amin,
    "var": R.var, "std": R.std, "argmax": R.argmax, "argmin": R.argmin, "all": R.all, "any": R.any,
    # shape and indexing
    "reshape": S.reshape, "view": S.view, "flatten": S.flatten, "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze, "permute": S.permute, "transpose": S.transpose, "swapaxes": S.swapaxes,
    "expand": S.expand, "expand_as": S.expand_as, "broadcast_to": S.broadcast_to, "gather": S.gather,
    "contiguous": S.contiguous, "split": I.split, "chunk": I.chunk,
    # comparisons
    "eq": C.eq, "ne": C.ne, "lt": C.lt, "le": C.le, "gt": C.gt, "ge": C.ge,
    "logical_not": C.logical_not, "logical_and": C.logical_and, "logical_or": C.logical_or,
    "equal": C.equal, "allclose": C.allclose,
    # dtype conversion
    "to": U.to, "float": lambda self: U.to(self, "float32"), "double": lambda self: U.to(self, "float64"),
    "half": lambda self: U.to(self, "float16"), "long": lambda self: U.to(self, "int64"),
    "int": lambda self: U.to(self, "int32"), "bool": lambda self: U.to(self, "bool"),
    "type_as": lambda self, other: U.to(self, other.dtype), "type": U.type_,
    # graph
    "backward": _backward, "register_hook": autograd.register_hook, "retain_grad": _retain_grad,
    "register_post_accumulate_grad_hook": autograd.register_post_accumulate_grad_hook,
    # in place
    "fill_": _fill_, "copy_": _copy_, "uniform_": _uniform_, "normal_": _normal_,
}

_INPLACE = {
    ("add_", "__iadd__"): (np.add, M.add),
    ("sub_", "__isub__"): (np.subtract, M.sub),
    ("mul_", "__imul__"): (np.multiply, M.mul),
    ("div_", "__itruediv__"): (np.true_divide, M.div),
    ("floor_divide_", "__ifloordiv__"): (np.floor_divide, M.floor_divide),
    ("remainder_", "__imod__"): (np.remainder, M.remainder),
}


def _clamp_(self, min=None, max=None):  # noqa: A002
    if _check_inplace(self, None, "clamp_"):
        raise GraphError("clamp_: in-place ops are not recorded in the graph; use x = x.clamp(...)")
    np.clip(self._data, min, max, out=self._data)
    self._version += 1
    return self


def bind() -> None:
    """Attach every operator and method above to Tensor (done once, by ``chainrule.ops``)."""
    for name, function in {**_OPERATORS, **_METHODS, **SURFACE_METHODS}.items():
        setattr(Tensor, name, function)
    for (method_name, operator_name), (ufunc, function) in _INPLACE.items():
        method, augmented = _inplace(ufunc, function, method_name)
        setattr(Tensor, method_name, method)
        setattr(Tensor, operator_name, augmented)
    Tensor.clamp_ = _clamp_
    Tensor.T = property(S.T)
    Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
