"""Norms: ``cr.linalg`` (PyTorch's torch.linalg: vector_norm, matrix_norm, norm, vecdot) and
``cr.norm`` / ``Tensor.norm`` (torch.norm). The vector norm is one row of the derivative table;
matrix norms are built from it and from sums and extremes.

    y = ||x||_p = (sum |x|^p)^(1/p)    dL/dx = g sign(x) |x|^(p-1) / y^(p-1)   (0 where y = 0)
        p = 2:                         dL/dx = g x / y                          (0 where y = 0,
                                       as PyTorch: the norm's subgradient at the origin)
        p = 1:                         dL/dx = g sign(x)
        p = inf (max |x|), -inf (min): dL/dx = g sign(x) [|x| = y] / #ties
        p = 0 (count of nonzeros):     dL/dx = 0
    matrix 'fro' = the vector 2-norm over both dims; ord 1 / inf = max abs column / row sum
    (-1 / -inf: the min), from sum(|A|) and amax/amin.

Forward mode: dy = sum(dy/dx * dx) over the reduced dims, with the same factors as the VJP
(e.g. dy = sum(x dx) / y for p = 2, sum(sign(x) dx) for p = 1).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .arguments import dims_of, float_only
from .arithmetic import matmul, mul
from .matrices import diagonal as _diagonal
from .operands import kept_shape
from .reductions import amax, amin
from .reductions import sum as sum_
from .shape import squeeze

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import Dims, DTypeLike


INF = math.inf


def _vector_norm_forward(x, ord, axes, keepdims):  # noqa: A002 - PyTorch's name
    magnitude = np.abs(x)
    if ord == 2:
        return _two_norm(magnitude, axes, keepdims)
    if ord == INF:
        return np.max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -INF:
        return np.min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:
        return np.sum(magnitude != 0, axis=axes, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return np.sum(magnitude, axis=axes, keepdims=keepdims)
    return np.sum(magnitude ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _two_norm(magnitude, axes, keepdims):
    """sqrt(sum |x|^2); where the squares overflow or underflow (|x| near 1e308 or 1e-160), the
    values are scaled by a power of two first (exact), so the norm of [1e200] is 1e200, as PyTorch."""
    out = np.sqrt(np.add.reduce(magnitude * magnitude, axis=axes, keepdims=keepdims))
    peak = np.maximum.reduce(magnitude, axis=axes, keepdims=True, initial=0.0)
    if magnitude.dtype.kind == "f" and magnitude.size:
        lost = (out == 0) | np.isinf(out)
        if np.any(lost & (np.reshape(peak, out.shape) > 0) & np.isfinite(np.reshape(peak, out.shape))):
            exponent = np.frexp(np.where(np.isfinite(peak) & (peak > 0), peak, 1.0))[1]
            scaled = np.ldexp(magnitude, -exponent)
            rescued = np.ldexp(np.sqrt(np.add.reduce(scaled * scaled, axis=axes, keepdims=True)), exponent)
            out = np.where(lost, np.reshape(rescued, out.shape), out)
    return out


def _vector_norm_vjp(xp, g, y, x, ord, axes, keepdims):  # noqa: A002
    shape = kept_shape(x.shape, axes)
    g, y = g.reshape(shape), y.reshape(shape)
    if ord == 0:
        return x * 0.0
    if ord == 1:
        return g * xp.sign(x)
    if ord in (INF, -INF):
        chosen = abs(x) == y
        return xp.sign(x) * chosen * g / chosen.sum(axis=axes, keepdims=True)
    safe_y = xp.where(y == 0, 1.0, y)
    if ord == 2:
        return g * (x / safe_y)  # where y = 0 the slice of x is 0; x / y first, as PyTorch: no overflow
    scale = xp.sign(x) * abs(x) ** (ord - 1) / safe_y ** (ord - 1)
    return xp.where(y == 0, 0.0, g * scale)


def _vector_norm_jvp(xp, dx, y, x, ord, axes, keepdims):  # noqa: A002
    if ord == 0:
        return y * 0.0
    spread_y = y.reshape(kept_shape(x.shape, axes))
    if ord == 1:
        along = xp.sign(x) * dx
    elif ord in (INF, -INF):
        chosen = abs(x) == spread_y
        along = xp.sign(x) * chosen * dx / chosen.sum(axis=axes, keepdims=True)
    elif ord == 2:
        along = dx * (x / xp.where(spread_y == 0, 1.0, spread_y))
    else:
        safe_y = xp.where(spread_y == 0, 1.0, spread_y)
        along = xp.where(spread_y == 0, 0.0, dx * (xp.sign(x) * abs(x) ** (ord - 1) / safe_y ** (ord - 1)))
    return along.sum(axis=axes, keepdims=keepdims)


vector_norm_p = Primitive("vector_norm", _vector_norm_forward, _vector_norm_vjp, jvp=(_vector_norm_jvp,))


# --- the functions users call ---------------------------------------------------------------
def _ord(op: str, ord):  # noqa: A002
    try:
        return float(ord)
    except (TypeError, ValueError):
        raise ArgumentError(f"{op}: ord must be a number (inf and -inf included), got {ord!r}") from None


def vector_norm(x: Tensor, ord: float | str = 2, dim: Dims | None = None, keepdim: bool = False, *,  # noqa: A002
                dtype: DTypeLike | None = None) -> Tensor:
    """The p-norm (sum |x|^p)^(1/p) over ``dim`` (all elements when None); ord may be inf, -inf
    (max/min |x|) or 0 (number of nonzeros) (torch.linalg.vector_norm)."""
    if dtype is not None:
        x = x.to(dtype)
    float_only("vector_norm", x)
    ord = _ord("vector_norm", ord)
    axes = None if dim is None else dims_of("vector_norm", x, dim)
    if x.ndim == 0:
        axes = None
    if ord in (INF, -INF) and x.numel() == 0:
        raise ShapeError(f"vector_norm: ord={ord} of an empty tensor (shape {tuple(x.shape)}) is undefined")
    return apply(vector_norm_p, (x,), {"ord": ord, "axes": axes, "keepdims": bool(keepdim)})


def matrix_norm(x: Tensor, ord: str | float = "fro", dim: Sequence[int] = (-2, -1),  # noqa: A002
                keepdim: bool = False, *, dtype: DTypeLike | None = None) -> Tensor:
    """A norm of the matrices spanned by the two dims ``dim`` (torch.linalg.matrix_norm):
    'fro' (sqrt of the sum of squares), 1 / -1 (max / min absolute column sum), inf / -inf
    (max / min absolute row sum). 'nuc', 2 and -2 need singular values and are not supported."""
    if dtype is not None:
        x = x.to(dtype)
    float_only("matrix_norm", x)
    if x.ndim < 2:
        raise ShapeError(f"matrix_norm: needs a tensor with at least 2 dims, got shape {tuple(x.shape)}")
    dims = dims_of("matrix_norm", x, dim)
    if len(dims) != 2:
        raise ShapeError(f"matrix_norm: dim must name two dims, got {dim}")
    if ord == "fro":
        return vector_norm(x, 2, dims, keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"matrix_norm: ord={ord!r} needs singular values (an SVD), which chainrule "
                                  "does not provide yet; use 'fro', 1, -1, inf or -inf")
    ord = _ord("matrix_norm", ord)
    if ord not in (1, -1, INF, -INF):
        raise ArgumentError(f"matrix_norm: ord must be 'fro', 1, -1, inf or -inf, got {ord}")
    rows, cols = dims
    summed, extreme = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = sum_(abs(x), dim=summed, keepdim=True)
    out = (amax if ord > 0 else amin)(sums, dim=extreme, keepdim=True)
    return out if keepdim else squeeze(out, dims)


def norm(x: Tensor, ord: str | float | None = None, dim: Dims | None = None, keepdim: bool = False, *,  # noqa: A002
         dtype: DTypeLike | None = None) -> Tensor:
    """torch.linalg.norm: a vector norm over one dim (or all, flattened, when ord and dim are None),
    a matrix norm over two dims (or of a 2-D x when ord is given)."""
    dims = None if dim is None else ((dim,) if isinstance(dim, (int, np.integer)) else tuple(dim))
    if dims is not None and len(dims) not in (1, 2):
        raise ShapeError(f"linalg.norm: dim must name one or two dims, got {dim}")
    if ord is None:
        if dims is not None and len(dims) == 2:
            return matrix_norm(x, "fro", dims, keepdim, dtype=dtype)
        return vector_norm(x, 2, dims, keepdim, dtype=dtype)
    if dims is None:
        if x.ndim == 1:
            return vector_norm(x, ord, None, keepdim, dtype=dtype)
        if x.ndim == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
        raise ShapeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, got shape "
                         f"{tuple(x.shape)}")
    if len(dims) == 1:
        return vector_norm(x, ord, dims, keepdim, dtype=dtype)
    return matrix_norm(x, ord, dims, keepdim, dtype=dtype)


def tensor_norm(x: Tensor, p: str | float | None = "fro", dim: Dims | None = None, keepdim: bool = False,
                dtype: DTypeLike | None = None) -> Tensor:
    """torch.norm / Tensor.norm: p='fro' (or None) is the 2-norm over ``dim`` (all elements when
    None); a number p is the vector p-norm over ``dim``; for matrix norms use cr.linalg.matrix_norm."""
    if p is None or p == "fro":
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if isinstance(p, str):
        if p == "nuc":
            return matrix_norm(x, "nuc")
        raise ArgumentError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product along ``dim``, broadcasting the rest (torch.linalg.vecdot)."""
    return sum_(mul(x, y), dim=dim)


def diagonal(x: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """torch.linalg.diagonal: torch.diagonal with the last two dims as the default."""
    return _diagonal(x, offset, dim1, dim2)


__all__ = ["diagonal", "matmul", "matrix_norm", "norm", "vecdot", "vector_norm"]
