"""Convolution layers: Conv1d and Conv2d (the math is in ``chainrule/ops/convolution.py``).

    y = conv(x, weight) + bias      weight (out_channels, in_channels / groups, *kernel_size)

PyTorch's default initialisation: weight ~ kaiming_uniform_(a=sqrt(5)), which is
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel_size),
and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import ArgumentError, ShapeError
from ..ops.convolution import conv1d, conv2d
from ..ops.windows import pair
from . import init
from .module import Module, Parameter

if TYPE_CHECKING:
    from .._typing import DeviceLike, DTypeLike, Size
    from ..tensor import Tensor


class _ConvNd(Module):
    _spatial = 2
    _function = staticmethod(conv2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Size, stride: Size = 1,
                 padding: Size | str = 0, dilation: Size = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ArgumentError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ArgumentError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        check_device(device, name)
        spatial = self._spatial
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = pair(kernel_size, "kernel_size", name, spatial)
        self.stride = pair(stride, "stride", name, spatial)
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", name, spatial)
        self.dilation = pair(dilation, "dilation", name, spatial)
        self.padding_mode = padding_mode
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        weight_shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(weight_shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        shape = getattr(input, "shape", None)
        spatial = self._spatial
        fits = shape is not None and len(shape) in (spatial + 1, spatial + 2)
        if not fits or shape[-spatial - 1] != self.in_channels:  # type: ignore[index]  # fits: not None
            dims = ", ".join(("L",) if spatial == 1 else ("H", "W"))
            raise ShapeError(f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
                             f"(N, {self.in_channels}, {dims}) or ({self.in_channels}, {dims}), got "
                             f"{None if shape is None else tuple(shape)}")
        return self._function(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                              self.groups)

    def extra_repr(self) -> str:
        return conv_extra_repr(self)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out)."""

    _spatial = 1
    _function = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    _spatial = 2
    _function = staticmethod(conv2d)


def conv_extra_repr(layer: Module, extra: tuple[str, ...] = ()) -> str:
    """A convolution layer's settings as PyTorch prints them: channels, kernel and stride, then each
    option that differs from its default (``extra``: more options whose default is 0, printed after
    dilation, as ConvTranspose's output_padding)."""
    n = layer._spatial
    text = (f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, "
            f"stride={layer.stride}")
    defaults = [("padding", (0,) * n), ("dilation", (1,) * n), *[(name, (0,) * n) for name in extra],
                ("groups", 1)]
    for name, default in defaults:
        value = getattr(layer, name)
        if value != default:
            text += f", {name}={value}"
    if layer.bias is None:
        text += ", bias=False"
    return text
