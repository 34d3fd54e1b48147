"""Upsample and its two fixed-mode spellings (math: ``chainrule/ops/upsampling.py``).

    Upsample(scale_factor=2)                       nearest neighbour: each value repeated 2x2
    Upsample(scale_factor=2, mode='bilinear')      linear in each direction between neighbours
    UpsamplingNearest2d(...), UpsamplingBilinear2d(...)   (the latter with align_corners=True)

No parameters: the layer is F.interpolate with its arguments stored (what U-Nets and decoders
use to grow feature maps before a convolution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ops.upsampling import interpolate
from .module import Module

if TYPE_CHECKING:

    from .._typing import Size
    from ..tensor import Tensor


class Upsample(Module):
    """Resize (N, C, ...) input to ``size`` or by ``scale_factor`` with ``mode``."""

    def __init__(self, size: Size | None = None, scale_factor: float | tuple[float, ...] | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor: float | tuple[float, ...] | None
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode='nearest' (PyTorch's older spelling)."""

    def __init__(self, size: Size | None = None,
                 scale_factor: float | tuple[float, ...] | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode='bilinear' and align_corners=True (PyTorch's older spelling)."""

    def __init__(self, size: Size | None = None,
                 scale_factor: float | tuple[float, ...] | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
