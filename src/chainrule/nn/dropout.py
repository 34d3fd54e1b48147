"""Dropout: during training, zero each element with probability p and scale the survivors by
1/(1-p), so the expected value is unchanged; in evaluation it is the identity.

    y = x * m / (1 - p),  m ~ Bernoulli(1 - p)      dL/dx = g * m / (1 - p)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ArgumentError
from . import functional as F
from .module import Module

if TYPE_CHECKING:
    from ..tensor import Tensor


class Dropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
