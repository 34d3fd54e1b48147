"""Transposed convolution layers: ConvTranspose1d and ConvTranspose2d (math: ``ops/conv_transpose.py``).

    y = conv_transpose(x, weight) + bias       weight (in_channels, out_channels / groups, *kernel_size)
    out = (n - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1

The layer a decoder or generator uses to grow feature maps (the gradient of Conv with respect to
its input). PyTorch's default initialisation: weight ~ kaiming_uniform_(a=sqrt(5)), i.e.
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel_size)
= out_channels / groups * prod(kernel_size) (PyTorch reads dim 1 as fan-in here too), and the
bias from the same range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import ShapeError
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from ..ops.conv_transpose import output_length as _length
from ..ops.windows import pair
from . import init
from .conv import conv_extra_repr
from .module import Module, Parameter

if TYPE_CHECKING:
    from typing import Any

    from .._typing import DeviceLike, DTypeLike, Size
    from ..tensor import Tensor


class _ConvTransposeNd(Module):
    _spatial = 2
    _function = staticmethod(conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Size, stride: Size = 1,
                 padding: Size = 0, output_padding: Size = 0, groups: int = 1, bias: bool = True,
                 dilation: Size = 1, padding_mode: str = "zeros", device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported (as in PyTorch), got "
                             f"{padding_mode!r}")
        spatial = self._spatial
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = pair(kernel_size, "kernel_size", name, spatial)
        self.stride = pair(stride, "stride", name, spatial)
        self.padding = pair(padding, "padding", name, spatial)
        self.output_padding = pair(output_padding, "output_padding", name, spatial)
        self.dilation = pair(dilation, "dilation", name, spatial)
        self.transposed, self.padding_mode = True, padding_mode
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple:
        """PyTorch's rule: ``output_size`` (spatial sizes, optionally with the leading dims) picks the
        output_padding that reaches it; it must lie between the smallest and largest reachable size."""
        if output_size is None:
            return self.output_padding
        spatial = self._spatial
        size = tuple(int(s) for s in output_size)
        if len(size) == input.ndim:
            size = size[-spatial:]
        if len(size) != spatial:
            raise ValueError(f"{type(self).__name__}: output_size must have {spatial} or {input.ndim} "
                             f"elements, got {output_size!r}")
        smallest = [_length(n, s, p, k, d, 0) for n, s, p, k, d in
                    zip(input.shape[-spatial:], self.stride, self.padding, self.kernel_size, self.dilation)]
        largest = [low + s - 1 for low, s in zip(smallest, self.stride)]
        if any(not low <= want <= high for want, low, high in zip(size, smallest, largest)):
            raise ValueError(f"{type(self).__name__}: requested an output size of {list(size)}, but valid "
                             f"sizes range from {smallest} to {largest} (for an input of "
                             f"{list(input.shape[-spatial:])})")
        return tuple(want - low for want, low in zip(size, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        spatial = self._spatial
        shape = getattr(input, "shape", None)
        fits = shape is not None and len(shape) in (spatial + 1, spatial + 2)
        if not fits or shape[-spatial - 1] != self.in_channels:  # type: ignore[index]  # fits: not None
            dims = "L" if spatial == 1 else "H, W"
            raise ShapeError(f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
                             f"(N, {self.in_channels}, {dims}) or ({self.in_channels}, {dims}), got "
                             f"{None if shape is None else tuple(shape)}")
        return self._function(input, self.weight, self.bias, self.stride, self.padding,
                              self._output_padding(input, output_size), self.groups, self.dilation)

    def extra_repr(self) -> str:
        return conv_extra_repr(self, ("output_padding",))


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution: (N, C_in, L) -> (N, C_out, L_out)."""

    _spatial = 1
    _function = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    _spatial = 2
    _function = staticmethod(conv_transpose2d)
