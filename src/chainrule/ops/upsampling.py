"""Resizing (F.interpolate): every mode is a linear map along each spatial axis in turn.

Along one axis of length n_in -> n_out, each mode gives an (n_out, n_in) matrix A, and

    y = x x_a A        (y[..., o, ...] = sum_i A[o, i] x[..., i, ...] along axis a)
    dL/dx = g x_a A^T  (the same primitive with A transposed, so derivatives of any order follow)
    dy = dx x_a A      (forward mode: linear, so the tangent is mapped as the values are)

The rows of A, with src the (fractional) input coordinate of output position o and
scale = n_in / n_out (or 1 / scale_factor when a scale factor is given and not recomputed):

    nearest         A[o, min(floor(o scale), n_in - 1)] = 1              (PyTorch's float32 index)
    nearest-exact   A[o, min(floor((o + 1/2) scale), n_in - 1)] = 1
    linear          src = (o + 1/2) scale - 1/2 (clamped at 0), or o (n_in - 1)/(n_out - 1) with
                    align_corners; i = floor(src), t = src - i:  A[o, i] = 1 - t, A[o, i + 1] = t
    cubic           Keys' cubic convolution (a = -0.75) over i - 1 .. i + 2, indices clamped to
                    the edges (bicubic)
    area            A[o, start:end] = 1 / (end - start), start = floor(o n_in / n_out),
                    end = ceil((o + 1) n_in / n_out)   (adaptive average pooling)

Bilinear and trilinear are linear along each axis in turn (the maps along different axes
commute). Nearest modes pick elements (np.take) instead of multiplying by A; their gradient adds
each g back where it was read.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import DTypeError, ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .operands import as_tensor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import Size


# --- the primitive --------------------------------------------------------------------------
def _resample_forward(x, axis, matrix, index):
    if index is not None:
        return np.take(x, index, axis=axis)
    if axis == x.ndim - 1:
        return x @ matrix.T
    before, after = x.shape[:axis], x.shape[axis + 1:]
    flat = x.reshape(before + (x.shape[axis], math.prod(after)))
    return (matrix @ flat).reshape(before + (matrix.shape[0],) + after)


def _resample_vjp(xp, g, y, x, axis, matrix, index):
    return resample(g, axis, matrix.T)


resample_p = Primitive("resample", _resample_forward, _resample_vjp, jvp=LINEAR)


def resample(x, axis: int, matrix, index=None):
    """x mapped by ``matrix`` (out, in) along ``axis`` (``index``: the picked rows, nearest modes)."""
    if isinstance(x, Tensor):
        return apply(resample_p, (x,), {"axis": axis, "matrix": matrix, "index": index})
    return _resample_forward(x, axis, matrix, index)


# --- the matrices ---------------------------------------------------------------------------
def _nearest_index(n_in, n_out, scale, exact):
    """PyTorch's source index, computed in float32 as its kernels do."""
    if n_in == n_out and not exact:
        return np.arange(n_out)
    scale = np.float32(n_in / n_out if scale is None else 1.0 / scale)
    position = np.arange(n_out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    return np.minimum(np.floor(position * scale).astype(np.int64), n_in - 1)


def _source(n_in, n_out, scale, align_corners, clamp, dtype):
    o = np.arange(n_out, dtype=dtype)
    if align_corners:
        return o * dtype.type((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    ratio = dtype.type(n_in / n_out if scale is None else 1.0 / scale)
    src = (o + dtype.type(0.5)) * ratio - dtype.type(0.5)
    return np.maximum(src, 0) if clamp else src


def _linear_matrix(n_in, n_out, scale, align_corners, dtype):
    src = _source(n_in, n_out, scale, align_corners, True, dtype)
    low = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    high = np.minimum(low + 1, n_in - 1)
    frac = src - low
    matrix = np.zeros((n_out, n_in), dtype=dtype)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, low), 1 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


def _cubic_matrix(n_in, n_out, scale, align_corners, dtype, a=-0.75):
    src = _source(n_in, n_out, scale, align_corners, False, dtype)
    base = np.floor(src).astype(np.int64)
    t = src - base
    near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1             # noqa: E731 - |d| <= 1
    far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a        # noqa: E731 - 1 < |d| < 2
    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    matrix = np.zeros((n_out, n_in), dtype=dtype)
    rows = np.arange(n_out)
    for offset, weight in zip((-1, 0, 1, 2), weights):
        np.add.at(matrix, (rows, np.clip(base + offset, 0, n_in - 1)), weight.astype(dtype))
    return matrix


def _area_matrix(n_in, n_out, dtype):
    matrix = np.zeros((n_out, n_in), dtype=dtype)
    for o in range(n_out):
        start, end = (o * n_in) // n_out, -((-(o + 1) * n_in) // n_out)
        matrix[o, start:end] = 1.0 / (end - start)
    return matrix


# --- the function users call ----------------------------------------------------------------
_MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3), "linear": (1,),
          "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}


def _per_axis(value, spatial, what, shape):
    if isinstance(value, (list, tuple)):
        if len(value) != spatial:
            raise ShapeError(f"interpolate: input of shape {shape} has {spatial} spatial dims but {what} is "
                             f"{tuple(value)}")
        return tuple(value)
    return (value,) * spatial


def output_size_and_scales(shape, size, scale_factor, mode, recompute_scale_factor):
    """The output's spatial sizes and the scales the kernels use (None: n_in / n_out)."""
    spatial = len(shape) - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        sizes = _per_axis(size, spatial, "size", shape)
        if not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ShapeError(f"interpolate: size must be positive ints, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * spatial
    factors = tuple(float(f) for f in _per_axis(scale_factor, spatial, "scale_factor", shape))
    if any(f <= 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
    sizes = tuple(int(math.floor(n * f)) for n, f in zip(shape[2:], factors))
    if min(sizes) < 1:
        raise ShapeError(f"interpolate: scale_factor {scale_factor!r} leaves no output for input {shape}")
    recompute = recompute_scale_factor or mode == "area"
    return sizes, ((None,) * spatial if recompute else factors)


def interpolate(input: Tensor, size: Size | None = None, scale_factor: float | Sequence[float] | None = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of ``input`` (N, C, d1[, d2[, d3]]) by ``size`` or ``scale_factor``."""
    x = as_tensor(input)
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    spatial = x.ndim - 2
    if spatial not in _MODES[mode]:
        wanted = " or ".join(f"{d + 2}-D" for d in _MODES[mode])
        raise ShapeError(f"interpolate: mode {mode!r} needs {wanted} input (N, C, ...), got shape "
                         f"{tuple(x.shape)}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if x.dtype.kind != "f":
        raise DTypeError(f"interpolate: input must be floating point, got {x.dtype} (shape {tuple(x.shape)})")
    sizes, scales = output_size_and_scales(tuple(x.shape), size, scale_factor, mode, recompute_scale_factor)
    dtype = x._data.dtype
    for axis, (n_in, n_out, scale) in enumerate(zip(x.shape[2:], sizes, scales), start=2):
        if mode in ("nearest", "nearest-exact"):
            index = _nearest_index(n_in, n_out, scale, mode == "nearest-exact")
            matrix = np.zeros((n_out, n_in), dtype=dtype)
            matrix[np.arange(n_out), index] = 1
            x = resample(x, axis, matrix, index)
        elif mode == "area":
            x = resample(x, axis, _area_matrix(n_in, n_out, dtype))
        elif mode == "bicubic":
            x = resample(x, axis, _cubic_matrix(n_in, n_out, scale, align_corners, dtype))
        else:
            x = resample(x, axis, _linear_matrix(n_in, n_out, scale, align_corners, dtype))
    return x
