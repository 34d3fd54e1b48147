"""SyncBatchNorm: batch normalisation whose statistics come from the global batch, over all ranks.

Plain BatchNorm under DistributedDataParallel normalises each rank's share of the batch with that
share's own mean and variance (and keeps per-rank running estimates). SyncBatchNorm computes them
over every rank's samples, so N ranks with batch B each normalise exactly as one process with
batch N*B would. Per channel c, with m_r values on rank r and M = sum_r m_r:

    mean_c = (sum_r sum_{i on r} x_ic) / M                      one all-reduce of [sums, m_r]
    var_c  = (sum_r sum_{i on r} (x_ic - mean_c)^2) / M         one all-reduce of the squares
    y_ic   = (x_ic - mean_c) / sqrt(var_c + eps) * weight_c + bias_c

(two passes, as single-process BatchNorm computes its variance, so the two agree to rounding).
The all-reduces are the differentiable one (chainrule.distributed.functional): the backward
pass all-reduces the gradients reaching the sums, which is the "matching backward all-reduce";
the gradient of x then follows the global statistics exactly.

Running estimates are updated from the global statistics (the unbiased variance uses M), so
every rank keeps the same ones. In evaluation, or without a process group of more than one
rank, it is BatchNorm. ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every BatchNorm*d
of a model for one (the same weight and bias Parameters, the buffers copied).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..creation import full
from ..distributed import functional as dist_functional
from ..distributed import process_group as groups
from ..errors import ShapeError
from ..grad_mode import no_grad
from ..ops import cat
from ..tensor import Tensor
from .module import Module
from .normalization import _BatchNorm

if TYPE_CHECKING:
    from typing import Any

    from .._typing import DeviceLike, DTypeLike
    from ..backend import np


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the whole distributed batch, for (N, C, ...) input."""

    _dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group: Any = None,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        groups.check_group(process_group, "SyncBatchNorm")
        self.process_group = process_group

    def _synchronised(self) -> bool:
        return self.training and groups.is_initialized() and groups.get_world_size() > 1

    def forward(self, input: Tensor) -> Tensor:
        if not self._synchronised():
            return super().forward(input)
        self._check_input(input)
        factor = self._running_factor()
        channels = self.num_features
        axes = (0,) + tuple(range(2, input.ndim))
        shape = (1, channels) + (1,) * (input.ndim - 2)
        local_count = input._data.size // channels
        count_here = full((1,), local_count, dtype=input.dtype)
        sums = dist_functional.all_reduce(cat([input.sum(dim=axes), count_here]))
        count = float(sums._data[channels])
        if count <= 1:
            raise ShapeError(f"{self!r}: expected more than 1 value per channel over all ranks when "
                             f"training, got {count:g} (this rank's input: {tuple(input.shape)})")
        mean = sums[:channels] / count
        centred = input - mean.reshape(shape)
        var = dist_functional.all_reduce((centred * centred).sum(dim=axes)) / count
        output = centred * ((var + self.eps) ** -0.5).reshape(shape)
        if self.weight is not None:
            output = output * self.weight.reshape(shape)
        if self.bias is not None:
            output = output + self.bias.reshape(shape)
        if self.track_running_stats and self.running_mean is not None:
            self._update_running(mean._data, var._data * (count / (count - 1)), factor)
        return output

    def _update_running(self, mean: np.ndarray, unbiased_var: np.ndarray, factor: float) -> None:
        with no_grad():
            for stat, value in ((self.running_mean, mean), (self.running_var, unbiased_var)):
                stat._data *= 1.0 - factor
                stat._data += factor * value.astype(stat._data.dtype, copy=False)
                stat._version += 1

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm*d inside replaced by a SyncBatchNorm (the same
        Parameters, copies of the running statistics, the same train/eval mode)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            dtype = module.weight.dtype if module.weight is not None else (
                module.running_mean.dtype if module.running_mean is not None else None)
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, dtype=dtype)
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                value = getattr(module, name)
                if value is not None:
                    getattr(converted, name)._data[...] = value._data
            converted.train(module.training)
        for name, child in list(module.named_children()):
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
