"""Fully connected layers and shape helpers: Identity, Linear, Flatten, Unflatten.

    Linear:  y = x W^T + b     W (out_features, in_features), b (out_features,)
             (the math and its gradients: ``chainrule/ops/linear.py``)

PyTorch's default initialisation: W ~ kaiming_uniform_(a=sqrt(5)), which is
U(-1/sqrt(in_features), 1/sqrt(in_features)), and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.linear import linear_p
from ..primitive import apply
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import DeviceLike, DTypeLike


class Identity(Module):
    """y = x (a placeholder that keeps a model's structure, e.g. when removing a layer)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b for x of shape (..., in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        check_device(device, "Linear")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # one dict read each, not Module.__getattr__'s slow path
        weight: Parameter   # always set (bias may be None)
        weight, bias = params["weight"], params["bias"]  # type: ignore[assignment]
        if (not isinstance(input, Tensor) or input._data.ndim == 0
                or input._data.shape[-1] != self.in_features or input._data.dtype != weight._data.dtype):
            self._reject(input, weight)
        return apply(linear_p, (input, weight) if bias is None else (input, weight, bias), {})

    def _reject(self, input: Tensor, weight: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise ArgumentError(f"{self!r}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ShapeError(f"{self!r}: expected input with last dim {self.in_features}, got shape "
                             f"{tuple(input.shape)}")
        raise DTypeError(f"{self!r}: input is {input.dtype} (shape {tuple(input.shape)}) but the layer's "
                         f"weights are {weight.dtype}; convert the input (x.to({weight.dtype.name!r})) "
                         f"or the model (model.to({input.dtype.name!r}))")

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim % input.ndim
        shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        if -1 not in self.unflattened_size and math.prod(self.unflattened_size) != input.shape[dim]:
            raise ShapeError(f"{self!r}: cannot split dim {self.dim} of size {input.shape[dim]} (input shape "
                             f"{tuple(input.shape)}) into {self.unflattened_size}")
        return input.reshape(shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
