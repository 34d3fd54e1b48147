"""Tensor's operators and methods, each bound to the one function in the op table that does it.

``t.exp()`` is ``ops.exp(t)``, ``a + b`` is ``ops.add(a, b)``: the derivative lives with the
function, never again here.

In-place methods (``add_``, ``mul_``, ``x[i] = v``, ``masked_fill_``, ``relu_``, ``copy_``...)
write into the tensor's own buffer and bump its version. When a gradient is being recorded they
are recorded too, as PyTorch records them: the out-of-place op computes the new value and
``in_place.record_in_place`` makes the tensor its output (earlier users of the tensor keep the
old value's node). On a view of another tensor (``x[0].add_(y)``), where PyTorch would also
change the viewed tensor, a recorded in-place method refuses with a clear error; ``x[0] += y``
works (Python rebinds and assigns it back through ``x[0] = ...``).

Under forward mode, when the tensor or an operand carries a tangent (``in_place.follows_in_place``),
an in-place method also goes out of place, recorded or not: the op's JVP gives the new value's
tangent, which the tensor takes with the values (torch.func's semantics; see forward_ad.py). The new
value is computed from a clone of the old one (``_before``), so that nothing recorded -- the op,
the graph of its tangent -- refers to the tensor whose values are about to change.
"""

from __future__ import annotations

from .. import autograd, in_place
from ..backend import np, rng
from ..errors import ArgumentError, DTypeError, GraphError, ShapeError
from ..primitive import _ForwardMode  # .open (dual levels open): all an in-place method checks otherwise
from ..tensor import Tensor
from . import activations as A
from . import arithmetic as M
from . import compare as C
from . import indexing as I
from . import reductions as R
from . import shape as S
from . import unary as U
from .extra_methods import METHODS as SURFACE_METHODS
from .operands import constant


def _reflected(function):
    return lambda self, other: function(other, self)


def _records(t: Tensor, *others) -> bool:
    """True when changing ``t`` in place must be recorded in the graph."""
    if not autograd.is_grad_enabled():
        return False
    if not (t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)):
        return False
    if t._prim is None and t._requires_grad:
        raise GraphError(
            f"a leaf tensor (shape {t.shape}) that requires grad cannot be changed in place while grad "
            "is recorded; wrap the update in `with cr.no_grad():` (or change p.data)")
    return True


def _is_view(t: Tensor) -> bool:
    """True for an op-made tensor whose values are a view of an input's buffer (x[0], x.T, ...)."""
    return t._prim is not None and t._data.base is not None and any(
        np.may_share_memory(t._data, i._data) for i in (t._inputs() or ()))


def _in_place(self: Tensor, result: Tensor, name: str, recorded: bool = True) -> Tensor:
    """``result`` (computed out of place) becomes the new value of ``self`` itself: recorded in the
    graph, or (``recorded=False``: forward mode follows an unrecorded change) written together with
    its tangents."""
    if result.shape != self.shape:
        raise ShapeError(f"{name}: the result has shape {result.shape} but an in-place op keeps the "
                         f"tensor's shape {self.shape}")
    if result.dtype != self.dtype:
        if not np.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise DTypeError(f"{name}: result type {result.dtype} can't be cast to the desired output "
                             f"type {self.dtype} (shape {self.shape})")
        result = U.to(result, self.dtype)
    if _is_view(self):
        raise GraphError(f"{name}: this tensor (shape {self.shape}) is a view of another one (made by "
                         f"'{self._prim.name}'); PyTorch would change both, chainrule records only whole "  # type: ignore[union-attr]
                         "tensors: write x[index] = x[index] op y, or x[index] op= y, instead")
    if recorded:
        return in_place.record_in_place(self, result)   # moves the tangents too under forward mode
    _write(self, result._data, name)
    _ForwardMode.written(self, result)
    return self


def _before(self: Tensor, operands: list) -> tuple:
    """Forward mode follows a change of ``self``: (a clone of its old value, with its place in the
    graph and its tangents by clone's rules, and ``operands`` with ``self`` replaced by the clone)."""
    old = U.clone(self)
    return old, [old if o is self else o for o in operands]


def _write(self: Tensor, values: np.ndarray, name: str) -> Tensor:
    """Unrecorded in-place change: the values go into the tensor's buffer, its version moves on."""
    try:
        self._data[...] = values
    except (ValueError, TypeError) as err:
        raise ShapeError(f"{name}: cannot write values of shape {np.shape(values)} into a tensor of shape "
                         f"{self.shape} {self.dtype}: {err}") from None
    self._version += 1
    return self


def _inplace(ufunc, function, name):
    """An in-place method (``add_``) and the matching augmented operator (``__iadd__``)."""

    def method(self, other):
        recorded = _records(self, other)
        if _ForwardMode.open and in_place.follows_in_place(name, self, other):
            old, (other,) = _before(self, [other])
            return _in_place(self, function(old, other), name, recorded)
        if recorded:
            return _in_place(self, function(self, other), name)
        value = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, value, out=self._data, casting="same_kind")
        except (ValueError, TypeError) as err:
            raise DTypeError(f"{name}: cannot update a tensor of shape {self.shape} {self.dtype} in place "
                             f"with {np.shape(value)} {getattr(value, 'dtype', type(value).__name__)}: {err}"
                             ) from None
        self._version += 1
        return self

    def augmented(self, other):
        if (_records(self, other) and _is_view(self)) or (_ForwardMode.open and in_place.carries_tangent(
                self, other) and in_place.viewed_base(self) is not None):
            return function(self, other)  # x[i] += y: Python assigns the result back through x[i] = ...
        return method(self, other)

    method.__name__ = name
    return method, augmented


def _as_values(self: Tensor, value) -> Tensor:
    return value if isinstance(value, Tensor) else constant(value, self)


def _setitem(self, index, value):
    value = _as_values(self, value)
    recorded = _records(self, value)
    follows = bool(_ForwardMode.open) and in_place.follows_in_place("__setitem__", self, value)
    if recorded or follows:
        old, (value,) = _before(self, [value]) if follows else (self, [value])
        if value.dtype != self.dtype:
            value = U.to(value, self.dtype) if value.dtype.kind == "f" and self.dtype.kind == "f" else \
                Tensor._wrap(value._data.astype(self.dtype))
        _in_place(self, I.setitem(old, index, value), "__setitem__", recorded)
        return
    _write_at(self, I.normalize_index(index), value._data)


def _write_at(self, index, values):
    try:
        self._data[index] = values
    except (ValueError, TypeError, IndexError) as err:
        raise ShapeError(f"__setitem__: cannot write values of shape {np.shape(values)} at {index!r} of a "
                         f"tensor of shape {self.shape}: {err}") from None
    self._version += 1


def _fill_(self, value):
    _setitem(self, Ellipsis, value)
    return self


def _copy_(self, source, non_blocking=False):
    _setitem(self, Ellipsis, source)
    return self


def _zero_(self):
    return _fill_(self, 0)


def _function_in_place(function, name):
    """``t.relu_()``, ``t.clamp_(lo, hi)``, ``t.masked_fill_(m, v)``...: the out-of-place function,
    recorded as an in-place change when a gradient is being recorded."""

    def method(self, *args, **kwargs):
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]
        recorded = _records(self, *tensors)
        if _ForwardMode.open and in_place.follows_in_place(name, self, *tensors):
            old, args = _before(self, list(args))
            kwargs = {key: old if value is self else value for key, value in kwargs.items()}
            return _in_place(self, function(old, *args, **kwargs), name, recorded)
        if recorded:
            return _in_place(self, function(self, *args, **kwargs), name)
        with autograd.no_grad():
            return _write(self, function(self, *args, **kwargs)._data, name)

    method.__name__ = name
    return method


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
    "fill_": _fill_, "copy_": _copy_, "zero_": _zero_, "uniform_": _uniform_, "normal_": _normal_,
}

_INPLACE = {
    ("add_", "__iadd__"): (np.add, M.add),
    ("sub_", "__isub__"): (np.subtract, M.sub),
    ("mul_", "__imul__"): (np.multiply, M.mul),
    ("div_", "__itruediv__"): (np.true_divide, M.div),
    ("floor_divide_", "__ifloordiv__"): (np.floor_divide, M.floor_divide),
    ("remainder_", "__imod__"): (np.remainder, M.remainder),
}


_IN_PLACE_FUNCTIONS = {
    "clamp_": M.clamp, "clip_": M.clamp, "masked_fill_": M.masked_fill, "relu_": A.relu,
    "sigmoid_": A.sigmoid, "tanh_": A.tanh, "exp_": U.exp, "log_": U.log, "sqrt_": U.sqrt, "abs_": U.abs,
    "neg_": M.neg, "pow_": M.pow, "floor_": U.floor, "ceil_": U.ceil, "round_": U.round, "trunc_": U.trunc,
    "sign_": U.sign, "sin_": U.sin, "cos_": U.cos, "log1p_": U.log1p, "erf_": U.erf,
    "leaky_relu_": A.leaky_relu,
}


def bind() -> None:
    """Attach every operator and method above to Tensor (done once, by ``chainrule.ops``)."""
    for name, function in {**_OPERATORS, **_METHODS, **SURFACE_METHODS}.items():
        setattr(Tensor, name, function)
    for (method_name, operator_name), (ufunc, function) in _INPLACE.items():
        method, augmented = _inplace(ufunc, function, method_name)
        setattr(Tensor, method_name, method)
        setattr(Tensor, operator_name, augmented)
    for name, function in _IN_PLACE_FUNCTIONS.items():
        setattr(Tensor, name, _function_in_place(function, name))
    Tensor.T = property(S.T)  # type: ignore[method-assign, assignment]
    Tensor.mT = property(lambda self: S.transpose(self, -2, -1))  # type: ignore[method-assign, assignment]
