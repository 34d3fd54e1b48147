"""Sliding-window geometry shared by convolution and pooling (no primitives here).

A window op slides a kernel of (kh, kw) taps over the padded input. Along one axis, with
input length n, padding (before, after), kernel k, stride s and dilation d:

    out = floor((n + before + after - d*(k-1) - 1) / s) + 1
    tap i of window o reads padded position  o*s + i*d

so the values every window reads at tap (i, j) form ONE strided slice of the padded input,

    padded[..., i*d : i*d + s*(out_h-1) + 1 : s,  j*d : j*d + s*(out_w-1) + 1 : s]

which is what makes these ops fast: the forward reads kh*kw slices (or one as_strided view
holding all of them), and the backward adds a gradient into the same kh*kw slices (col2im).

1-D ops reuse the 2-D code: an (N, C, L) array is viewed as (N, C, 1, L) with a kernel of
height 1, which costs nothing.
"""

from __future__ import annotations

from ..backend import np
from ..errors import ShapeError

as_strided = np.lib.stride_tricks.as_strided


def pair(value, name: str, op: str, spatial: int) -> tuple:
    """An int or a tuple of ``spatial`` ints as a tuple (checked to be sensible)."""
    values = (value,) * spatial if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != spatial or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of {spatial} ints, got {value!r}")
    return tuple(int(v) for v in values)


def to_2d(values: tuple, fill: object) -> tuple:
    """A per-axis setting of a 1-D op as the (height, width) setting of the 2-D code."""
    return values if len(values) == 2 else (fill,) + values


def as_4d(array):
    """View an (N, C, L) array as (N, C, 1, L); 4-D arrays pass through."""
    return array[:, :, None, :] if array.ndim == 3 else array


def output_length(n: int, pad_before: int, pad_after: int, kernel: int, stride: int, dilation: int,
                  ceil_mode: bool = False) -> int:
    """How many windows fit along one axis (PyTorch's rule, ceil_mode included)."""
    span = n + pad_before + pad_after - dilation * (kernel - 1) - 1
    count = (span + (stride - 1 if ceil_mode else 0)) // stride + 1   # // rounds down, as PyTorch's
    if ceil_mode and (count - 1) * stride >= n + pad_before:
        count -= 1   # the last window would start in the right padding only
    return max(count, 0)


def pad_spatial(array, padding, value=0.0):
    """``array`` (N, C, H, W) padded by ((top, bottom), (left, right)); no copy when all are 0."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return array
    padded = np.full(array.shape[:2] + (array.shape[2] + top + bottom, array.shape[3] + left + right),
                     value, dtype=array.dtype)
    padded[:, :, top:top + array.shape[2], left:left + array.shape[3]] = array
    return padded


def tap_slice(i: int, j: int, out_hw: tuple, stride: tuple, dilation: tuple) -> tuple:
    """The index of the padded positions that tap (i, j) of every window reads (see above)."""
    (out_h, out_w), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (..., slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw))


def window_view(padded, kernel: tuple, out_hw: tuple, stride: tuple, dilation: tuple):
    """A read-only view (..., kh, kw, out_h, out_w) of ``padded`` (..., H, W): element
    [..., i, j, oh, ow] = padded[..., oh*sh + i*dh, ow*sw + j*dw]. No data is copied."""
    *lead, s_h, s_w = padded.strides
    (sh, sw), (dh, dw) = stride, dilation
    shape = padded.shape[:-2] + tuple(kernel) + tuple(out_hw)
    strides = tuple(lead) + (s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    return as_strided(padded, shape, strides, writeable=False)


def add_windows_back(window_grads, padded_hw: tuple, padding, out_hw: tuple, stride: tuple,
                     dilation: tuple):
    """col2im, the adjoint of ``window_view``: ``window_grads`` (..., kh, kw, out_h, out_w) added
    back onto the positions each tap read, then the padding cut off. Returns (..., H, W)."""
    lead, (kh, kw) = window_grads.shape[:-4], window_grads.shape[-4:-2]
    grad_padded = np.zeros(lead + tuple(padded_hw), dtype=window_grads.dtype)
    for i in range(kh):
        for j in range(kw):
            grad_padded[tap_slice(i, j, out_hw, stride, dilation)] += window_grads[..., i, j, :, :]
    return crop(grad_padded, padding)


def crop(grad_padded, padding):
    """Cut ((top, bottom), (left, right)) of padding off the last two axes."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return grad_padded
    height, width = grad_padded.shape[-2:]
    return grad_padded[..., top:height - bottom, left:width - right]
