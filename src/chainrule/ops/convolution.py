"""Convolution (PyTorch's conv1d / conv2d: cross-correlation), as im2col + one matmul.

Shapes: input x (N, C, H, W), weight w (O, C/G, kh, kw), bias b (O,), G groups; channel group
g = c // (C/G) is seen only by the O/G output channels of the same group. With the window
geometry of ``windows.py`` (padding, stride s, dilation d):

    y[n, o, p, q] = b[o] + sum_{c in group(o), i, j} w[o, c, i, j] * xpad[n, c, p*s + i*d, q*s + j*d]

im2col lays every window out as a column, cols[n, g, (c, i, j), (p, q)], so that per group

    y[n, g] = W_g @ cols[n, g]              W_g = w[group g] as an (O/G, C/G*kh*kw) matrix

The three VJPs (g = dL/dy, reshaped the same way):

    dL/db = sum_{n, p, q} g[n, o, p, q]
    dL/dw = sum_n  g[n, g] @ cols[n, g]^T                                  (a matmul)
    dL/dx = col2im(W_g^T @ g[n, g])     each column's gradient added back onto the input
                                        positions its window read (kh*kw strided adds), padding cut

dL/dx and dL/dw are bilinear in (g, w) and (x, g), so they are primitives of their own here
(``conv_input_grad``, ``conv_weight_grad``) whose VJPs are convolutions again:

    input_grad(g, w) = dx:   d/dg <dx, h> = conv(h, w)            d/dw <dx, h> = weight_grad(h, g)
    weight_grad(x, g) = dw:  d/dx <dw, k> = input_grad(g, k)      d/dg <dw, k> = conv(x, k)

so gradients of gradients (create_graph=True) come out of the same three rows.

Forward mode: conv(x, w) + b is bilinear in (x, w) and so are input_grad and weight_grad, so
each tangent is a sum of the same ops with one argument replaced by its tangent:

    d conv(x, w, b)       = conv(dx, w) + conv(x, dw) + db        (db on every position)
    d input_grad(g, w)    = input_grad(dg, w) + input_grad(g, dw)
    d weight_grad(x, g)   = weight_grad(dx, g) + weight_grad(x, dg)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .operands import as_tensor
from .windows import add_windows_back, as_4d, output_length, pad_spatial, pair, to_2d, window_view

if TYPE_CHECKING:
    from .._typing import Size


# --- the array code -------------------------------------------------------------------------
def _out_hw(in_hw, kernel, stride, padding, dilation) -> tuple:
    return tuple(output_length(n, before, after, k, s, d)
                 for n, (before, after), k, s, d in zip(in_hw, padding, kernel, stride, dilation))


def _im2col(x4, kernel, groups, stride, padding, dilation):
    """cols (N, G, C/G*kh*kw, out_h*out_w), contiguous (the one copy of the forward), and out_hw."""
    n, c, h, w = x4.shape
    padded = pad_spatial(x4, padding)
    out_hw = _out_hw((h, w), kernel, stride, padding, dilation)
    grouped = padded.reshape(n, groups, c // groups, *padded.shape[2:])
    windows = window_view(grouped, kernel, out_hw, stride, dilation)   # (N, G, C/G, kh, kw, oh, ow)
    cols = windows.reshape(n, groups, (c // groups) * kernel[0] * kernel[1], out_hw[0] * out_hw[1])
    return cols, out_hw


def _weight_rows(w4, groups):
    """The weight as G matrices (G, O/G, C/G*kh*kw); a view."""
    return w4.reshape(groups, w4.shape[0] // groups, -1)


def conv_forward(x, w, b=None, *, stride, padding, dilation, groups):
    x4, w4 = as_4d(x), as_4d(w)
    n, out_channels = x4.shape[0], w4.shape[0]
    cols, out_hw = _im2col(x4, w4.shape[2:], groups, stride, padding, dilation)
    rows = _weight_rows(w4, groups)
    y = (rows[0] @ cols[:, 0]) if groups == 1 else (rows @ cols)   # (N, [G,] O/G, oh*ow)
    y = y.reshape(n, out_channels, *out_hw)
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y.reshape(n, out_channels, out_hw[1]) if x.ndim == 3 else y


def conv_input_grad(g, w, *, input_shape, stride, padding, dilation, groups):
    """dL/dx = col2im(W_g^T @ g): each column's gradient added back where its window read."""
    g4, w4 = as_4d(g), as_4d(w)
    n, _, out_h, out_w = g4.shape
    kernel = w4.shape[2:]
    rows = _weight_rows(w4, groups)
    g_grouped = g4.reshape(n, groups, -1, out_h * out_w)
    if groups == 1:
        col_grads = rows[0].T @ g_grouped[:, 0]           # (N, C*kh*kw, oh*ow)
    else:
        col_grads = rows.transpose(0, 2, 1) @ g_grouped   # (N, G, C/G*kh*kw, oh*ow)
    channels = input_shape[1]
    window_grads = col_grads.reshape(n, channels, *kernel, out_h, out_w)
    in_hw = (1,) + tuple(input_shape[2:]) if len(input_shape) == 3 else tuple(input_shape[2:])
    padded_hw = tuple(size + before + after for size, (before, after) in zip(in_hw, padding))
    dx = add_windows_back(window_grads, padded_hw, padding, (out_h, out_w), stride, dilation)
    return dx.reshape(input_shape)


def conv_weight_grad(x, g, *, weight_shape, stride, padding, dilation, groups):
    """dL/dw = sum_n g[n, g] @ cols[n, g]^T (cols rebuilt from x: cheaper than keeping them)."""
    x4, g4 = as_4d(x), as_4d(g)
    kernel = to_2d(tuple(weight_shape[2:]), 1)
    cols, _ = _im2col(x4, kernel, groups, stride, padding, dilation)
    n, out_channels = g4.shape[:2]
    g_grouped = g4.reshape(n, groups, out_channels // groups, -1)
    # a batched matmul then a sum over n: far faster than einsum(optimize=True) on NumPy 2
    dw = (g_grouped @ cols.swapaxes(-1, -2)).sum(axis=0)      # (G, O/G, C/G*kh*kw)
    return dw.reshape(weight_shape)


# --- the derivative table: three primitives closed under differentiation ---------------------
def _run(prim, args, params):
    """Call a primitive on arrays directly, or through the engine when building a graph of the
    backward pass (create_graph=True hands the VJPs Tensors)."""
    if any(isinstance(a, Tensor) for a in args):
        return apply(prim, tuple(as_tensor(a) for a in args), params)
    return prim.forward(*args, **params)


def _conv_of(x, w, params):
    return _run(_CONV[x.ndim], (x, w), params)


def _input_grad_of(g, w, input_shape, params):
    return _run(conv_input_grad_p, (g, w), dict(params, input_shape=tuple(input_shape)))


def _weight_grad_of(x, g, weight_shape, params):
    return _run(conv_weight_grad_p, (x, g), dict(params, weight_shape=tuple(weight_shape)))


def _conv_vjp_input(xp, g, y, x, w, b=None, **params):
    return _input_grad_of(g, w, x.shape, params)


def _conv_vjp_weight(xp, g, y, x, w, b=None, **params):
    return _weight_grad_of(x, g, w.shape, params)


def _conv_vjp_bias(xp, g, y, x, w, b=None, **params):
    return g.sum(axis=(0, 2) if g.ndim == 3 else (0, 2, 3))


_CONV_JVP = (lambda xp, dx, y, x, w, b=None, **params: _conv_of(dx, w, params),
             lambda xp, dw, y, x, w, b=None, **params: _conv_of(x, dw, params),
             lambda xp, db, y, x, w, b=None, **params: db.reshape((-1,) + (1,) * (y.ndim - 2)))

conv1d_p = Primitive("conv1d", conv_forward, _conv_vjp_input, _conv_vjp_weight, _conv_vjp_bias,
                     jvp=_CONV_JVP)
conv2d_p = Primitive("conv2d", conv_forward, _conv_vjp_input, _conv_vjp_weight, _conv_vjp_bias,
                     jvp=_CONV_JVP)
_CONV = {3: conv1d_p, 4: conv2d_p}

conv_input_grad_p = Primitive(
    "conv_input_grad", conv_input_grad,
    lambda xp, h, y, g, w, input_shape, **params: _conv_of(h, w, params),
    lambda xp, h, y, g, w, input_shape, **params: _weight_grad_of(h, g, w.shape, params),
    jvp=(lambda xp, dg, y, g, w, input_shape, **params: _input_grad_of(dg, w, input_shape, params),
         lambda xp, dw, y, g, w, input_shape, **params: _input_grad_of(g, dw, input_shape, params)))

conv_weight_grad_p = Primitive(
    "conv_weight_grad", conv_weight_grad,
    lambda xp, k, y, x, g, weight_shape, **params: _input_grad_of(g, k, x.shape, params),
    lambda xp, k, y, x, g, weight_shape, **params: _conv_of(x, k, params),
    jvp=(lambda xp, dx, y, x, g, weight_shape, **params: _weight_grad_of(dx, g, weight_shape, params),
         lambda xp, dg, y, x, g, weight_shape, **params: _weight_grad_of(x, dg, weight_shape, params)))


# --- the functions users call ---------------------------------------------------------------
def _padding_pairs(padding, kernel, stride, dilation, op, spatial) -> tuple:
    """PyTorch's padding argument as ((before, after) per axis); 'same' may be uneven."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * spatial
        if padding != "same":
            raise ArgumentError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    amounts = pair(padding, "padding", op, spatial)
    if any(p < 0 for p in amounts):
        raise ShapeError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in amounts)


def _check(op, x, w, b, stride, dilation, groups, spatial):
    if w.ndim != spatial + 2:
        raise ShapeError(f"{op}: weight must be {spatial + 2}-D (out_channels, in_channels/groups, "
                         f"kernel...), got shape {w.shape}")
    if x.ndim != spatial + 2:
        raise ShapeError(f"{op}: input must be {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched), "
                         f"got shape {x.shape}")
    tensors = [("input", x), ("weight", w)] + ([("bias", b)] if b is not None else [])
    for name, t in tensors:
        if t.dtype.kind != "f":
            raise DTypeError(f"{op}: {name} must be floating point, got {t.dtype} (shape {t.shape})")
    if len({t.dtype for _, t in tensors}) != 1:
        kinds = ", ".join(f"{name} {t.dtype}" for name, t in tensors)
        raise DTypeError(f"{op}: input, weight and bias must have the same dtype, got {kinds}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ArgumentError(f"{op}: stride and dilation must be positive, got stride {stride}, "
                         f"dilation {dilation}")
    out_channels, channels_per_group = w.shape[:2]
    if out_channels % groups:
        raise ShapeError(f"{op}: out_channels ({out_channels}, weight {w.shape}) must be divisible by "
                         f"groups ({groups})")
    if x.shape[1] != channels_per_group * groups:
        raise ShapeError(f"{op}: weight of shape {w.shape} with groups={groups} expects input with "
                         f"{channels_per_group * groups} channels, but got input of shape {x.shape}")
    if b is not None and b.shape != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},) for weight {w.shape}, got {b.shape}")


def _convolve(op, spatial, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    unbatched = x.ndim == spatial + 1
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = pair(stride, "stride", op, spatial)
    dilation = pair(dilation, "dilation", op, spatial)
    _check(op, x, w, b, stride, dilation, groups, spatial)
    kernel = w.shape[2:]
    pads = _padding_pairs(padding, kernel, stride, dilation, op, spatial)
    out_size = _out_hw(x.shape[2:], kernel, stride, pads, dilation)
    if min(out_size) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} with padding {padding!r} is smaller than the "
                         f"kernel {tuple(kernel)} dilated by {dilation}: no output would remain")
    params = {"stride": to_2d(stride, 1), "padding": to_2d(pads, (0, 0)),
              "dilation": to_2d(dilation, 1), "groups": int(groups)}
    inputs = (x, w) if b is None else (x, w, b)
    y = apply(_CONV[spatial + 2], inputs, params)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Size = 1,  # noqa: A002
           padding: Size | str = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """1-D convolution of (N, C, L) (or unbatched (C, L)) with weight (O, C/groups, k)."""
    return _convolve("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Size = 1,  # noqa: A002
           padding: Size | str = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """2-D convolution of (N, C, H, W) (or unbatched (C, H, W)) with weight (O, C/groups, kh, kw)."""
    return _convolve("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
