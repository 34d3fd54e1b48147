"""Pooling: max and average over sliding windows (PyTorch's max_pool1d/2d, avg_pool1d/2d).

Windows as in ``windows.py``: tap (i, j) of every window is one strided slice of the padded
input, so a pool is kh*kw elementwise ops over whole arrays, and its VJP adds g back into the
same kh*kw slices (overlapping windows add up).

    max:  y[p, q] = max_{i, j} xpad[p*s + i*d, q*s + j*d]       (padding is -inf)
          dL/dx   = g routed to the FIRST maximum of each window in row-major tap order
                    (PyTorch's tie rule: one position gets all of g, the other ties get 0);
                    a window holding NaN gives NaN but passes no gradient (PyTorch: to a NaN)
    avg:  y[p, q] = (1 / D[p, q]) * sum_{i, j} xpad[p*s + i, q*s + j]   (padding is 0)
          dL/dx   = col2im(g / D): every tap of the window gets g / D
          D = kh*kw, or the count of real (count_include_pad=False) or padded-extent cells
          the window covers, or divisor_override
    adaptive_avg_pool2d(x) = P_h @ x @ P_w^T, with P the row-averaging matrices of PyTorch's
          windows [floor(o*n/m), ceil((o+1)*n/m)) (built from matmul, so its VJPs are matmul's)

The VJP of max pooling is linear in g and the VJP of avg pooling is a primitive whose own VJP
is avg pooling again, so both can be differentiated twice (create_graph=True).

Forward mode: max pooling passes on the tangent of each window's first maximum,
dy[p, q] = dx at that position; avg pooling and its adjoint are linear, dy = avg_pool(dx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .arithmetic import matmul
from .operands import as_tensor
from .windows import add_windows_back, as_4d, crop, output_length, pad_spatial, pair, tap_slice, to_2d

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Literal

    from .._typing import Size


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _taps(kernel) -> list[tuple[int, int]]:
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _padded_hw(shape, padding) -> tuple:
    return tuple(n + before + after for n, (before, after) in zip(shape[-2:], padding))


# --- max pooling ----------------------------------------------------------------------------
def max_pool_forward(x, *, kernel, stride, padding, dilation, out_hw):
    padded = pad_spatial(as_4d(x), padding, _lowest(x.dtype))
    taps = _taps(kernel)
    y = padded[tap_slice(*taps[0], out_hw, stride, dilation)].copy()
    for i, j in taps[1:]:
        np.maximum(y, padded[tap_slice(i, j, out_hw, stride, dilation)], out=y)
    return y.reshape(y.shape[:2] + y.shape[3:]) if x.ndim == 3 else y


def _first_max_hits(padded, y4, kernel, stride, dilation):
    """For each tap (i, j) in row-major order: (i, j, hit) with hit[n, c, p, q] true when that
    tap holds the window's maximum and no earlier tap did."""
    out_hw = y4.shape[2:]
    taps = _taps(kernel)
    taken = None
    for number, (i, j) in enumerate(taps):
        hit = padded[tap_slice(i, j, out_hw, stride, dilation)] == y4
        if taken is None:
            taken = hit.copy()
        else:
            hit &= ~taken
            if number + 1 < len(taps):
                taken |= hit
        yield i, j, hit


def _argmax_positions(padded, y4, kernel, stride, dilation):
    """Row and column (in padded coordinates) of each window's first maximum, (N, C, oh, ow)."""
    rows = np.zeros(y4.shape, dtype=np.int64)
    cols = np.zeros(y4.shape, dtype=np.int64)
    for i, j, hit in _first_max_hits(padded, y4, kernel, stride, dilation):
        rows[hit] = i * dilation[0]
        cols[hit] = j * dilation[1]
    rows += (np.arange(y4.shape[2]) * stride[0])[:, None]
    cols += np.arange(y4.shape[3]) * stride[1]
    return rows, cols


def _max_pool_vjp(xp, g, y, x, *, kernel, stride, padding, dilation, out_hw):
    if isinstance(g, Tensor):   # create_graph: route g with differentiable scatter/index ops
        return _max_pool_vjp_graph(xp, g, y._data, x._data, kernel, stride, padding, dilation)
    padded = pad_spatial(as_4d(x), padding, _lowest(x.dtype))
    g4, y4 = as_4d(g), as_4d(y)
    grad_padded = np.zeros(padded.shape, dtype=g.dtype)
    disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    for i, j, hit in _first_max_hits(padded, y4, kernel, stride, dilation):
        target = grad_padded[tap_slice(i, j, out_hw, stride, dilation)]
        if disjoint:
            np.multiply(g4, hit, out=target)    # windows do not overlap: plain writes
        else:
            target += g4 * hit
    return crop(grad_padded, padding).reshape(x.shape)


def _max_pool_vjp_graph(xp, g, y, x, kernel, stride, padding, dilation):
    padded = pad_spatial(as_4d(x), padding, _lowest(x.dtype))
    n, c, height, width = padded.shape
    rows, cols = _argmax_positions(padded, as_4d(y), kernel, stride, dilation)
    flat = ((np.arange(n * c).reshape(n, c, 1, 1) * height + rows) * width + cols).reshape(-1)
    grad_padded = xp.scatter_add(g.reshape(-1), (n * c * height * width,), (flat,))
    grad_padded = grad_padded.reshape(n, c, height, width)
    (top, bottom), (left, right) = padding
    return grad_padded[:, :, top:height - bottom, left:width - right].reshape(x.shape)


def _max_pool_jvp(xp, dx, y, x, *, kernel, stride, padding, dilation, out_hw):
    """The tangent at each window's first maximum (the position the VJP routes g to)."""
    x4 = as_4d(x if isinstance(x, np.ndarray) else x._data)
    y4 = as_4d(y if isinstance(y, np.ndarray) else y._data)
    rows, cols = _argmax_positions(pad_spatial(x4, padding, _lowest(x4.dtype)), y4, kernel, stride, dilation)
    n, c, height, width = x4.shape
    (top, _), (left, _) = padding
    rows, cols = np.clip(rows - top, 0, height - 1), np.clip(cols - left, 0, width - 1)
    flat = (np.arange(n * c).reshape(n, c, 1, 1) * height + rows) * width + cols
    return dx.reshape(-1)[flat.reshape(-1)].reshape(y.shape)


max_pool1d_p = Primitive("max_pool1d", max_pool_forward, _max_pool_vjp, jvp=(_max_pool_jvp,))
max_pool2d_p = Primitive("max_pool2d", max_pool_forward, _max_pool_vjp, jvp=(_max_pool_jvp,))


# --- average pooling ------------------------------------------------------------------------
def _divide(values, divisor):
    if isinstance(divisor, np.ndarray):
        divisor = divisor.astype(values.dtype, copy=False)
    return values / divisor


def avg_pool_forward(x, *, kernel, stride, padding, out_hw, divisor):
    padded = pad_spatial(as_4d(x), padding, 0)
    taps = _taps(kernel)
    total = padded[tap_slice(*taps[0], out_hw, stride, (1, 1))].copy()
    for i, j in taps[1:]:
        total += padded[tap_slice(i, j, out_hw, stride, (1, 1))]
    y = _divide(total, divisor)
    return y.reshape(y.shape[:2] + y.shape[3:]) if x.ndim == 3 else y


def avg_pool_backward(g, *, input_shape, kernel, stride, padding, out_hw, divisor):
    """The adjoint of avg pooling: every tap of a window gets g / D (col2im)."""
    share = as_4d(_divide(g, divisor))
    window_grads = np.broadcast_to(share[:, :, None, None], share.shape[:2] + tuple(kernel) + share.shape[2:])
    shape4 = input_shape if len(input_shape) == 4 else input_shape[:2] + (1,) + input_shape[2:]
    dx = add_windows_back(window_grads, _padded_hw(shape4, padding), padding, out_hw, stride, (1, 1))
    return dx.reshape(input_shape)


def _run(prim, args, params):
    if any(isinstance(a, Tensor) for a in args):
        return apply(prim, tuple(as_tensor(a) for a in args), params)
    return prim.forward(*args, **params)


avg_pool1d_p = Primitive(
    "avg_pool1d", avg_pool_forward,
    lambda xp, g, y, x, **params: _run(avg_pool_backward_p, (g,), dict(params, input_shape=x.shape)),
    jvp=LINEAR)
avg_pool2d_p = Primitive("avg_pool2d", avg_pool_forward, avg_pool1d_p.vjps[0], jvp=LINEAR)
avg_pool_backward_p: Primitive = Primitive(
    "avg_pool_backward", avg_pool_backward,
    lambda xp, h, y, g, input_shape, **params: _run(_AVG_POOL[h.ndim], (h,), params),
    jvp=LINEAR)
_AVG_POOL: dict[int, Primitive] = {3: avg_pool1d_p, 4: avg_pool2d_p}


# --- geometry and the functions users call ---------------------------------------------------
def _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode, spatial):
    """Checked settings as the 2-D code takes them; the right padding grows for ceil_mode."""
    kernel = pair(kernel_size, "kernel_size", op, spatial)
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride", op, spatial)
    pads = pair(padding, "padding", op, spatial)
    dilation = pair(dilation, "dilation", op, spatial)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ArgumentError(f"{op}: kernel_size, stride and dilation must be positive, got kernel {kernel}, "
                         f"stride {stride}, dilation {dilation}")
    if any(p < 0 or 2 * p > d * (k - 1) + 1 for p, k, d in zip(pads, kernel, dilation)):
        raise ArgumentError(f"{op}: padding {pads} must be non-negative and at most half the kernel size "
                         f"{kernel}")
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ShapeError(f"{op}: input must be {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched), "
                         f"got shape {x.shape}")
    sizes = x.shape[-spatial:]
    out = tuple(output_length(n, p, p, k, s, d, ceil_mode)
                for n, p, k, s, d in zip(sizes, pads, kernel, stride, dilation))
    if min(out) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} is too small for kernel {kernel} with padding "
                         f"{pads} and dilation {dilation}: no output would remain")
    pairs = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
                  for n, p, k, s, d, o in zip(sizes, pads, kernel, stride, dilation, out))
    return {"kernel": to_2d(kernel, 1), "stride": to_2d(stride, 1), "padding": to_2d(pairs, (0, 0)),
            "dilation": to_2d(dilation, 1), "out_hw": to_2d(out, 1)}, sizes, pads


def _batched(x, spatial):
    return (x.reshape((1,) + x.shape), True) if x.ndim == spatial + 1 else (x, False)


def _max_pool(op, spatial, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x = as_tensor(input)
    params, sizes, _ = _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode, spatial)
    x, unbatched = _batched(x, spatial)
    y = apply(max_pool1d_p if spatial == 1 else max_pool2d_p, (x,), params)
    indices = _indices(x._data, y._data, params, sizes) if return_indices else None
    if unbatched:
        y = y.reshape(y.shape[1:])
        indices = None if indices is None else indices[0]
    return (y, Tensor._wrap(indices)) if return_indices else y  # type: ignore[arg-type]


def _indices(x, y, params, sizes):
    """PyTorch's return_indices: each maximum's flat position in the unpadded (H, W) (or L)."""
    padded = pad_spatial(as_4d(x), params["padding"], _lowest(x.dtype))
    rows, cols = _argmax_positions(padded, as_4d(y), params["kernel"], params["stride"], params["dilation"])
    (top, _), (left, _) = params["padding"]
    flat = (rows - top) * sizes[-1] + (cols - left)
    return flat.reshape(y.shape)


@overload
def max_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False,
               return_indices: Literal[False] = False) -> Tensor: ...
@overload
def max_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False, *,
               return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool1d(input: Tensor, kernel_size: Size, stride: Size | None, padding: Size, dilation: Size,  # noqa: A002
               ceil_mode: bool, return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]: ...


def max_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over windows of (N, C, L); with return_indices also each maximum's position in L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


@overload
def max_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False,
               return_indices: Literal[False] = False) -> Tensor: ...
@overload
def max_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False, *,
               return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool2d(input: Tensor, kernel_size: Size, stride: Size | None, padding: Size, dilation: Size,  # noqa: A002
               ceil_mode: bool, return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]: ...


def max_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over windows of (N, C, H, W); with return_indices also each maximum's flat position in H*W."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _window_counts(n, pad, after, kernel, stride, out, include_pad):
    """How many countable cells each window covers along one axis (for avg pooling's D)."""
    countable = np.zeros(n + pad + after)
    if include_pad:
        countable[:n + 2 * pad] = 1
    else:
        countable[pad:pad + n] = 1
    return sum(countable[i:i + stride * (out - 1) + 1:stride] for i in range(kernel))


def _avg_pool(op, spatial, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise ArgumentError(f"{op}: input must be floating point, got {x.dtype} (shape {x.shape})")
    params, sizes, pads = _geometry(op, x, kernel_size, stride, padding, 1, ceil_mode, spatial)
    x, unbatched = _batched(x, spatial)
    kernel, steps, out_hw = params["kernel"], params["stride"], params["out_hw"]
    if divisor_override is not None:
        if divisor_override == 0:
            raise ArgumentError(f"{op}: divisor_override must not be zero")
        divisor = float(divisor_override)
    else:
        counts = [_window_counts(n, p, after, k, s, o, count_include_pad) for n, p, (_, after), k, s, o in
                  zip(to_2d(sizes, 1), to_2d(pads, 0), params["padding"], kernel, steps, out_hw)]
        divisor = np.multiply.outer(counts[0], counts[1])
        if np.all(divisor == kernel[0] * kernel[1]):
            divisor = float(kernel[0] * kernel[1])
    params.pop("dilation")
    y = apply(avg_pool1d_p if spatial == 1 else avg_pool2d_p, (x,), dict(params, divisor=divisor))
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool1d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None)


def avg_pool2d(input: Tensor, kernel_size: Size, stride: Size | None = None, padding: Size = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows of (N, C, H, W); see the module docstring for the divisor D."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _averaging_matrix(n_in: int, n_out: int, dtype):
    """P (n_out, n_in): row o averages inputs floor(o*n_in/n_out) .. ceil((o+1)*n_in/n_out) - 1."""
    matrix = np.zeros((n_out, n_in), dtype=dtype)
    for o in range(n_out):
        start, stop = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)
        matrix[o, start:stop] = 1.0 / (stop - start)
    return Tensor._wrap(matrix)


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:  # noqa: A002
    """Average (N, C, H, W) (or (C, H, W)) down to output_size (an int, or a pair; None keeps a size)."""
    x = as_tensor(input)
    if x.ndim not in (3, 4) or x.dtype.kind != "f":
        raise ShapeError(f"adaptive_avg_pool2d: input must be a 3-D or 4-D float tensor, got shape {x.shape} "
                         f"{x.dtype}")
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    height, width = x.shape[-2:]
    out_h, out_w = (height if sizes[0] is None else sizes[0]), (width if sizes[1] is None else sizes[1])
    if min(out_h, out_w) < 1:
        raise ShapeError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    rows = _averaging_matrix(height, out_h, x.dtype)
    cols_t = _averaging_matrix(width, out_w, x.dtype).T
    return matmul(matmul(rows, x), cols_t)


def adaptive_avg_pool1d(input: Tensor, output_size: int | Sequence[int]) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    length = x.shape[-1]
    out = output_size if isinstance(output_size, int) else output_size[0]
    if out < 1:
        raise ShapeError(f"adaptive_avg_pool1d: output_size must be positive, got {output_size!r}")
    return matmul(x, _averaging_matrix(length, out, x.dtype).T)
