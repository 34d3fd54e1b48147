"""GroupNorm: normalise groups of channels per sample (math: ``chainrule/ops/group_norm.py``).

Unlike BatchNorm it keeps no running statistics and treats every sample alone, so it behaves
the same in training and evaluation and with a batch of one. PyTorch's initialisation:
weight 1, bias 0, one of each per channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..device import check_device
from ..errors import ShapeError
from ..ops.group_norm import group_norm
from .module import Module
from .normalization import add_affine_parameters, reset_affine_parameters

if TYPE_CHECKING:
    from .._typing import DeviceLike, DTypeLike
    from ..tensor import Tensor


class GroupNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per (sample, group of channels)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        check_device(device, "GroupNorm")
        if num_groups < 1 or num_channels % num_groups:
            raise ShapeError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        add_affine_parameters(self, (self.num_channels,), dtype, affine, bias)

    def reset_parameters(self) -> None:
        reset_affine_parameters(self)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"{self!r}: expected input (N, {self.num_channels}, *), got shape "
                             f"{tuple(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
