"""Elementwise functions of one tensor.

g = dL/dy (reverse mode, the VJP); dx is x's tangent and dy = y'(x) dx the output's (forward
mode, the JVP). An element-wise op's Jacobian is diagonal, so both multiply by the same y'(x).

    y = exp(x)       dL/dx = g * y                dy = y dx
    y = log(x)       dL/dx = g / x                dy = dx / x
    y = log1p(x)     dL/dx = g / (1 + x)          dy = dx / (1 + x)
    y = sqrt(x)      dL/dx = g / (2 y)            dy = dx / (2 y)
    y = |x|          dL/dx = g * sign(x)          dy = sign(x) dx      (0 at x = 0, as PyTorch)
    y = sin(x)       dL/dx = g * cos(x)           dy = cos(x) dx
    y = cos(x)       dL/dx = -g * sin(x)          dy = -sin(x) dx
    y = erf(x)       dL/dx = g * 2/sqrt(pi) * exp(-x^2)      dy = 2/sqrt(pi) exp(-x^2) dx
    y = x (copy)     dL/dx = g                    dy = dx              (clone, and alias: a view)
    sign, floor, ceil, trunc, round    dL/dx = 0, dy = 0   (piecewise constant, as PyTorch)
    y = cast(x)      dL/dx = g cast back to x's dtype     dy = dx cast  (float <-> float only)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, overload

from .. import backend as B
from ..backend import np
from ..device import dtype_of_to_call
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor

if TYPE_CHECKING:
    from .._typing import DeviceLike, DTypeLike

exp_p = Primitive("exp", np.exp, lambda xp, g, y, x: g * y,
                  jvp=(lambda xp, dx, y, x: dx * y,))
log_p = Primitive("log", np.log, lambda xp, g, y, x: g / x,
                  jvp=(lambda xp, dx, y, x: dx / x,))
log1p_p = Primitive("log1p", np.log1p, lambda xp, g, y, x: g / (x + 1),
                    jvp=(lambda xp, dx, y, x: dx / (x + 1),))
sqrt_p = Primitive("sqrt", np.sqrt, lambda xp, g, y, x: g / (y * 2),
                   jvp=(lambda xp, dx, y, x: dx / (y * 2),))
abs_p = Primitive("abs", np.abs, lambda xp, g, y, x: g * xp.sign(x),
                  jvp=(lambda xp, dx, y, x: dx * xp.sign(x),))
sin_p = Primitive("sin", np.sin, lambda xp, g, y, x: g * xp.cos(x),
                  jvp=(lambda xp, dx, y, x: dx * xp.cos(x),))
cos_p = Primitive("cos", np.cos, lambda xp, g, y, x: -g * xp.sin(x),
                  jvp=(lambda xp, dx, y, x: -dx * xp.sin(x),))
erf_p = Primitive("erf", B.erf, lambda xp, g, y, x: g * (xp.exp(-(x * x)) * (2.0 / math.sqrt(math.pi))),
                  jvp=(lambda xp, dx, y, x: dx * (xp.exp(-(x * x)) * (2.0 / math.sqrt(math.pi))),))
clone_p = Primitive("clone", np.copy, lambda xp, g, y, x: g, jvp=LINEAR)
alias_p = Primitive("alias", lambda x: x.view(), lambda xp, g, y, x: g, jvp=LINEAR)   # the same memory


def sign_array(x):
    """-1, 0 or 1; 0 for NaN, as PyTorch's sign (NumPy's gives NaN)."""
    out = np.asarray(np.sign(x))
    if out.dtype.kind == "f":
        out[np.isnan(out)] = 0
    return out


_FLAT = (lambda xp, dx, y, x, **params: dx * 0,)   # a piecewise constant op: no slope, either way

sign_p = Primitive("sign", sign_array, lambda xp, g, y, x: g * 0, jvp=_FLAT)
floor_p = Primitive("floor", np.floor, lambda xp, g, y, x: g * 0, jvp=_FLAT)
ceil_p = Primitive("ceil", np.ceil, lambda xp, g, y, x: g * 0, jvp=_FLAT)
trunc_p = Primitive("trunc", np.trunc, lambda xp, g, y, x: g * 0, jvp=_FLAT)
round_p = Primitive("round", lambda x, decimals: np.round(x, decimals), lambda xp, g, y, x, decimals: g * 0,
                    jvp=_FLAT)
cast_p = Primitive("cast", lambda x, dtype: x.astype(dtype), lambda xp, g, y, x, dtype: g, jvp=LINEAR)


def as_float(x: Tensor) -> Tensor:
    """Integers and bools become the default float dtype first: PyTorch's rule for exp, sqrt,
    sigmoid and the other functions whose values are not whole numbers."""
    return x if x._data.dtype.kind in "fc" else Tensor._wrap(x._data.astype(B.DEFAULT_FLOAT))


def exp(x: Tensor) -> Tensor:
    return apply(exp_p, (as_float(x),), {})


def log(x: Tensor) -> Tensor:
    return apply(log_p, (as_float(x),), {})


def log1p(x: Tensor) -> Tensor:
    return apply(log1p_p, (as_float(x),), {})


def sqrt(x: Tensor) -> Tensor:
    return apply(sqrt_p, (as_float(x),), {})


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return apply(abs_p, (x,), {})


def sin(x: Tensor) -> Tensor:
    return apply(sin_p, (as_float(x),), {})


def cos(x: Tensor) -> Tensor:
    return apply(cos_p, (as_float(x),), {})


def erf(x: Tensor) -> Tensor:
    return apply(erf_p, (as_float(x),), {})


def clone(x: Tensor) -> Tensor:
    return apply(clone_p, (x,), {})


def to(x: Tensor, *args: DTypeLike | DeviceLike | Tensor | bool | None, dtype: DTypeLike | None = None,
       device: DeviceLike | None = None, non_blocking: bool = False, copy: bool = False,
       memory_format: object = None) -> Tensor:
    """PyTorch's ``t.to(dtype)``, ``t.to(device)``, ``t.to(device, dtype)``, ``t.to(other)``.

    Float-to-float conversions keep the gradient path; conversions to integer or bool types give
    a tensor without gradient. The device must be the CPU. Returns ``x`` itself when nothing
    changes (unless ``copy=True``).
    """
    dtype = dtype_of_to_call(args, dtype, device, "Tensor.to")
    if dtype is not None:
        dtype = B.to_dtype(dtype)
    if dtype is None or dtype == x._data.dtype:
        return clone(x) if copy else x
    if dtype.kind == "f" and x._data.dtype.kind == "f":
        return apply(cast_p, (x,), {"dtype": dtype})
    return Tensor._wrap(x._data.astype(dtype))


@overload
def type_(x: Tensor, dtype: None = None, non_blocking: bool = False, **kwargs: object) -> str: ...
@overload
def type_(x: Tensor, dtype: DTypeLike, non_blocking: bool = False, **kwargs: object) -> Tensor: ...


def type_(x: Tensor, dtype: DTypeLike | None = None, non_blocking: bool = False,
          **kwargs: object) -> str | Tensor:
    """``t.type()`` -> 'torch.FloatTensor'; ``t.type(dtype or 'torch.LongTensor')`` -> converted."""
    if dtype is None:
        return B.tensor_type_name(x.dtype)
    return to(x, dtype)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 per element, 0 for NaN (zero gradient: it is piecewise constant)."""
    return apply(sign_p, (x,), {})


def floor(x: Tensor) -> Tensor:
    return apply(floor_p, (x,), {})


def ceil(x: Tensor) -> Tensor:
    return apply(ceil_p, (x,), {})


def trunc(x: Tensor) -> Tensor:
    """Round towards zero."""
    return apply(trunc_p, (x,), {})


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places."""
    return apply(round_p, (x,), {"decimals": int(decimals)})


def isnan(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isnan(x._data))


def isfinite(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isfinite(x._data))
