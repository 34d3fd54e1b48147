"""Elementwise functions of one tensor.

    y = exp(x)       dL/dx = g * y
    y = log(x)       dL/dx = g / x
    y = log1p(x)     dL/dx = g / (1 + x)
    y = sqrt(x)      dL/dx = g / (2 y)
    y = |x|          dL/dx = g * sign(x)          (0 at x = 0, as PyTorch)
    y = sin(x)       dL/dx = g * cos(x)
    y = cos(x)       dL/dx = -g * sin(x)
    y = erf(x)       dL/dx = g * 2/sqrt(pi) * exp(-x^2)
    y = x (copy)     dL/dx = g
    y = cast(x)      dL/dx = g cast back to x's dtype (float <-> float only)
"""

from __future__ import annotations

import math

from .. import backend as B
from ..autograd import Primitive, apply
from ..backend import np
from ..tensor import Tensor

exp_p = Primitive("exp", np.exp, lambda xp, g, y, x: g * y)
log_p = Primitive("log", np.log, lambda xp, g, y, x: g / x)
log1p_p = Primitive("log1p", np.log1p, lambda xp, g, y, x: g / (x + 1))
sqrt_p = Primitive("sqrt", np.sqrt, lambda xp, g, y, x: g / (y * 2))
abs_p = Primitive("abs", np.abs, lambda xp, g, y, x: g * xp.sign(x))
sin_p = Primitive("sin", np.sin, lambda xp, g, y, x: g * xp.cos(x))
cos_p = Primitive("cos", np.cos, lambda xp, g, y, x: -g * xp.sin(x))
erf_p = Primitive("erf", B.erf, lambda xp, g, y, x: g * (xp.exp(-(x * x)) * (2.0 / math.sqrt(math.pi))))
clone_p = Primitive("clone", np.copy, lambda xp, g, y, x: g)
cast_p = Primitive("cast", lambda x, dtype: x.astype(dtype), lambda xp, g, y, x, dtype: g)


def exp(x: Tensor) -> Tensor:
    return apply(exp_p, (x,), {})


def log(x: Tensor) -> Tensor:
    return apply(log_p, (x,), {})


def log1p(x: Tensor) -> Tensor:
    return apply(log1p_p, (x,), {})


def sqrt(x: Tensor) -> Tensor:
    return apply(sqrt_p, (x,), {})


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return apply(abs_p, (x,), {})


def sin(x: Tensor) -> Tensor:
    return apply(sin_p, (x,), {})


def cos(x: Tensor) -> Tensor:
    return apply(cos_p, (x,), {})


def erf(x: Tensor) -> Tensor:
    return apply(erf_p, (x,), {})


def clone(x: Tensor) -> Tensor:
    return apply(clone_p, (x,), {})


def to(x: Tensor, dtype=None, *args, **kwargs) -> Tensor:
    """Convert the dtype. Float-to-float conversions keep the gradient path; conversions to
    integer or bool types give a tensor without gradient. Device strings ('cpu') are accepted."""
    if isinstance(dtype, str) and dtype.startswith("cpu"):
        dtype = args[0] if args else kwargs.get("dtype")
    if dtype is None:
        return x
    dtype = B.to_dtype(dtype)
    if dtype == x._data.dtype:
        return x
    if dtype.kind == "f" and x._data.dtype.kind == "f":
        return apply(cast_p, (x,), {"dtype": dtype})
    return Tensor._wrap(x._data.astype(dtype))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 per element (no gradient: it is piecewise constant)."""
    return Tensor._wrap(np.sign(x._data))


def floor(x: Tensor) -> Tensor:
    return Tensor._wrap(np.floor(x._data))


def ceil(x: Tensor) -> Tensor:
    return Tensor._wrap(np.ceil(x._data))


def round(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return Tensor._wrap(np.round(x._data))


def isnan(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isnan(x._data))


def isfinite(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isfinite(x._data))
