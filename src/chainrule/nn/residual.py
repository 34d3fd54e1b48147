"""Residual (skip) connection: y = x + f(x).

The chain rule through it: dL/dx = dL/dy + dL/dy * df/dx. The first term reaches x untouched
however deep the stack, which is why residual connections rescue gradients that would
otherwise vanish through many saturating layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ShapeError
from .module import Module

if TYPE_CHECKING:
    from ..tensor import Tensor


class Residual(Module):
    """Wrap ``module`` (its output must have its input's shape) as x + module(x)."""

    def __init__(self, module: Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, input: Tensor) -> Tensor:
        output = self.module(input)
        if output.shape != input.shape:
            raise ShapeError(f"Residual: the wrapped {type(self.module).__name__} maps shape "
                             f"{tuple(input.shape)} to {tuple(output.shape)}; x + f(x) needs f to keep "
                             "the shape")
        return input + output
