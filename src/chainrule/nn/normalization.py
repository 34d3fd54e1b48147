"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm (math: ``chainrule/ops/normalization.py``).

BatchNorm keeps running estimates of each channel's mean and variance as buffers (saved in the
state_dict). In training it normalises with the batch's statistics and updates the estimates:

    running_mean <- (1 - momentum) running_mean + momentum * batch mean
    running_var  <- (1 - momentum) running_var  + momentum * batch variance * m / (m - 1)

(momentum=None: a cumulative average, momentum = 1 / num_batches_tracked). In evaluation it
normalises with the running estimates, so one sample's output does not depend on the others.
With track_running_stats=False it always uses the batch's statistics, as PyTorch does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import DeviceLike, DTypeLike


def _count_batch(*, counter: int) -> int:
    counter += 1
    return counter


_count_batch_p = Primitive("count_batch", _count_batch)


def add_affine_parameters(layer: Module, shape: tuple[int, ...], dtype: DTypeLike, affine: bool,
                          bias: bool) -> None:
    """The learnable scale and shift of a normalisation layer, PyTorch's initialisation: ``weight``
    ones and ``bias`` zeros of ``shape`` (each registered as None when ``affine`` or ``bias`` is off)."""
    layer.register_parameter("weight", Parameter(np.ones(shape, dtype=dtype)) if affine else None)
    layer.register_parameter("bias", Parameter(np.zeros(shape, dtype=dtype)) if affine and bias else None)


def reset_affine_parameters(layer: Module) -> None:
    """weight back to ones and bias to zeros, where the layer has them."""
    if layer.weight is not None:
        init.ones_(layer.weight)
    if layer.bias is not None:
        init.zeros_(layer.bias)


class _BatchNorm(Module):
    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None, *, bias: bool = True) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = affine and bias
        add_affine_parameters(self, (self.num_features,), dtype, affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine_parameters(self)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ShapeError(f"{self!r}: expected {dims} input, got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"{self!r}: expected {self.num_features} channels in dim 1, got input of shape "
                             f"{tuple(input.shape)}")

    def _running_factor(self) -> float:
        """Count this training batch and return the weight of its statistics in the running ones."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            counter = self.num_batches_tracked
            apply(_count_batch_p, (), {"counter": counter._data})   # an op: a compiled replay counts too
            counter._version += 1
            if self.momentum is None:
                factor = 1.0 / float(counter._data)
        return factor

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = self._running_factor()
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep_stats else None,
                            self.running_var if keep_stats else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.use_bias}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, per channel C."""

    _dims = (4,)


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` dims, then scale and shift."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        check_device(device, "LayerNorm")
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.use_bias = elementwise_affine and bias
        add_affine_parameters(self, self.normalized_shape, dtype, elementwise_affine, bias)

    def reset_parameters(self) -> None:
        reset_affine_parameters(self)

    def forward(self, input: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k:]) != self.normalized_shape:
            raise ShapeError(f"{self!r}: expected input ending with dims {self.normalized_shape}, got shape "
                             f"{tuple(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.use_bias}")
