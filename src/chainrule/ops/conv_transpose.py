"""Transposed convolution ("deconvolution"): the VJP of convolution with respect to its input,
used as a forward op. It maps each input position to a kernel-sized patch of the output.

With conv(z, W) the convolution of ``convolution.py`` (stride s, padding p, dilation d,
groups G; W of shape (C_in, C_out/G, *k) read as a convolution weight from C_out to C_in
channels), the transposed convolution of x (N, C_in, *) is the adjoint of z -> conv(z, W):

    y = conv_transpose(x, W) + b     with  <conv_transpose(x, W), z> = <x, conv(z, W)>  for every z
    out = (n - 1) s - 2 p + d (k - 1) + output_padding + 1        along each spatial axis

so it is exactly ``conv_input_grad(x, W)`` (col2im of W^T x) with the output shape above, and
its derivatives are the other rows of that closed table (``convolution.py``):

    dL/dx = conv(g, W)                     (the same convolution, run forward)
    dL/dW = conv_weight_grad(g, x)         (g as the convolution's input, x as its output gradient)
    dL/db = sum of g over the batch and positions (the engine reduces the broadcast)

Forward mode: conv_transpose(x, W) is bilinear in (x, W) (each output entry is a sum of
x entries times W entries), so its tangent is the same op with one argument replaced by its
tangent in turn (db joins on every position, through the separate addition):

    dy = conv_transpose(dx, W) + conv_transpose(x, dW) + db

``output_padding`` (< stride or < dilation) adds rows/columns at the far end that no input
position reaches; they receive only the bias. That is why several input sizes of the forward
convolution share one output size, and ``output_size`` picks among them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DTypeError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .convolution import conv_input_grad, conv_input_grad_p
from .operands import as_tensor
from .windows import pair, to_2d

if TYPE_CHECKING:
    from .._typing import Size

# the same forward and VJP rows as convolution's input gradient, under the name a graph should show;
# the JVP shares (bilinear: the op again, one argument swapped for its tangent) are spelled out here
conv_transpose_p: Primitive = Primitive(
    "conv_transpose", conv_input_grad, *conv_input_grad_p.vjps,
    jvp=(lambda xp, dx, y, x, w, **params: xp.call(conv_transpose_p, dx, w, **params),
         lambda xp, dw, y, x, w, **params: xp.call(conv_transpose_p, x, dw, **params)))


def output_length(n: int, stride: int, padding: int, kernel: int, dilation: int, output_padding: int) -> int:
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _check(op, x, w, b, spatial, groups, stride, dilation, output_padding):
    if w.ndim != spatial + 2:
        raise ShapeError(f"{op}: weight must be {spatial + 2}-D (in_channels, out_channels/groups, "
                         f"kernel...), got shape {tuple(w.shape)}")
    if x.ndim != spatial + 2:
        raise ShapeError(f"{op}: input must be {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched), got "
                         f"shape {tuple(x.shape)}")
    tensors = [("input", x), ("weight", w)] + ([("bias", b)] if b is not None else [])
    for name, t in tensors:
        if t.dtype.kind != "f":
            raise DTypeError(f"{op}: {name} must be floating point, got {t.dtype} (shape {tuple(t.shape)})")
    if len({t.dtype for _, t in tensors}) != 1:
        raise DTypeError(f"{op}: input, weight and bias must share a dtype, got "
                         + ", ".join(f"{name} {t.dtype}" for name, t in tensors))
    if not isinstance(groups, int) or groups < 1 or w.shape[0] % groups:
        raise ShapeError(f"{op}: groups ({groups!r}) must be a positive divisor of the weight's first dim "
                         f"(weight {tuple(w.shape)})")
    if x.shape[1] != w.shape[0]:
        raise ShapeError(f"{op}: weight of shape {tuple(w.shape)} expects input with {w.shape[0]} channels, "
                         f"got input of shape {tuple(x.shape)}")
    out_channels = w.shape[1] * groups
    if b is not None and tuple(b.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},) for weight {tuple(w.shape)} and "
                         f"groups={groups}, got {tuple(b.shape)}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride and dilation must be positive, got stride {stride}, "
                         f"dilation {dilation}")
    for op_pad, s, d in zip(output_padding, stride, dilation):
        if op_pad < 0 or (op_pad >= s and op_pad >= d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride "
                             f"{stride} or dilation {dilation}")


def _transpose(op, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation) -> Tensor:
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    unbatched = x.ndim == spatial + 1
    if unbatched:
        x = x.reshape((1,) + tuple(x.shape))
    stride = pair(stride, "stride", op, spatial)
    padding = pair(padding, "padding", op, spatial)
    output_padding = pair(output_padding, "output_padding", op, spatial)
    dilation = pair(dilation, "dilation", op, spatial)
    _check(op, x, w, b, spatial, groups, stride, dilation, output_padding)
    if any(p < 0 for p in padding):
        raise ShapeError(f"{op}: padding must be non-negative, got {padding}")
    kernel = tuple(w.shape[2:])
    out = tuple(output_length(n, s, p, k, d, o) for n, s, p, k, d, o
                in zip(x.shape[2:], stride, padding, kernel, dilation, output_padding))
    if min(out) < 1:
        raise ShapeError(f"{op}: input of shape {tuple(x.shape)} with padding {padding} gives an empty "
                         f"output {out}")
    params = {"stride": to_2d(stride, 1), "padding": to_2d(tuple((p, p) for p in padding), (0, 0)),
              "dilation": to_2d(dilation, 1), "groups": int(groups),
              "input_shape": (x.shape[0], w.shape[1] * groups) + out}
    y = apply(conv_transpose_p, (x, w), params)
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * spatial)
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0, groups: int = 1,
                     dilation: Size = 1) -> Tensor:
    """Transposed 1-D convolution of (N, C_in, L) with weight (C_in, C_out/groups, k)."""
    return _transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                      dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0, groups: int = 1,
                     dilation: Size = 1) -> Tensor:
    """Transposed 2-D convolution of (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw)."""
    return _transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                      dilation)
