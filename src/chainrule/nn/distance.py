"""Similarity and distance layers (PyTorch's nn.CosineSimilarity and nn.PairwiseDistance); the
math and gradients are in ``chainrule/ops/similarity.py``.

    CosineSimilarity(dim=1, eps=1e-8)    sum (x1 / max(||x1||, eps)) (x2 / max(||x2||, eps)) along dim
    PairwiseDistance(p=2, eps=1e-6)      ||x1 - x2 + eps||_p along the last dim
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import functional as F
from .module import Module

if TYPE_CHECKING:
    from ..tensor import Tensor


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along ``dim`` (inputs broadcast together)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm distance between x1 and x2, row by row (along the last dim)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
