"""Losses as modules, each with ``reduction`` ('mean', 'sum' or 'none'; PyTorch's deprecated
``size_average``/``reduce`` flags are accepted and mapped to it); the math and gradients are in
``chainrule/ops``: losses.py, regression_losses.py and similarity.py.

    MSELoss              mean((x - y)^2)
    L1Loss               mean(|x - y|)
    SmoothL1Loss         mean(d^2 / (2 beta) if |d| < beta else |d| - beta / 2),  d = x - y
    HuberLoss            mean(d^2 / 2 if |d| < delta else delta (|d| - delta / 2))
    KLDivLoss            sum p (log p - x) / N   (x: log-probabilities; 'batchmean' is the true KL)
    CrossEntropyLoss     -log softmax(x)[target]   (class indices or probabilities; weight,
                                                    ignore_index, label_smoothing)
    NLLLoss              -x[target]                (x: log-probabilities)
    BCEWithLogitsLoss    -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))   (pos_weight)
    BCELoss              -(y log p + (1 - y) log(1 - p))
    CosineEmbeddingLoss  1 - cos(x1, x2) for y = 1,  max(0, cos(x1, x2) - margin) for y = -1

A loss that comes out NaN or infinite raises ``ChainruleError`` naming the loss and the shapes
(set ``loss.check_finite = False`` to allow it): a NaN loss silently poisons every weight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..backend import np
from ..errors import ArgumentError, ChainruleError
from ..grad_mode import no_grad
from ..ops.losses import REDUCTIONS, legacy_reduction
from ..primitive import Primitive, apply
from ..tensor import Tensor
from . import functional as F
from .module import Module

if TYPE_CHECKING:
    from .._typing import HasForward, P, R_co


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"{tuple(value.shape)} {value.dtype}"
    return type(value).__name__


class _Loss(Module):
    check_finite = True
    _reductions: tuple[str, ...] = REDUCTIONS

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        reduction = legacy_reduction(type(self).__name__, size_average, reduce, reduction)
        if reduction not in self._reductions:
            raise ArgumentError(f"{type(self).__name__}: reduction must be one of {self._reductions}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    if TYPE_CHECKING:   # loss(input, target) typed by forward, as every module's call (Module.__call__)
        def __call__(self: HasForward[P, R_co], *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        loss = super().__call__(*args, **kwargs)
        if self.check_finite and isinstance(loss, Tensor):
            input = args[0] if args else kwargs.get("input", kwargs.get("input1"))
            target = kwargs.get("target", args[-1] if len(args) > 1 else None)
            watched = [t if isinstance(t, Tensor) and t.dtype.kind == "f" else None for t in (input, target)]
            params = {"name": type(self).__name__, "input": _describe(input), "target": _describe(target),
                      "watched": tuple(t is not None for t in watched)}
            with no_grad():   # an op, so that a compiled replay checks too
                apply(_finite_check_p, (loss, *(t for t in watched if t is not None)), params)
        return loss


def _finite_check(loss: np.ndarray, *values: np.ndarray, name: str, input: str, target: str,
                  watched: tuple[bool, ...]) -> np.ndarray:
    """The loss, unless it is NaN or infinite: then an error naming the loss, the shapes and a cause."""
    if np.isfinite(loss).all():
        return loss
    found = "NaN" if np.isnan(loss).any() else "Inf"
    remaining = iter(values)
    input_values, target_values = (next(remaining) if w else None for w in watched)
    causes: list[str] = []
    if input_values is not None and not np.isfinite(input_values).all():
        causes.append("the input already holds NaN/Inf (a diverging model: lower the learning rate, "
                      "clip gradients, or find the op with cr.detect_anomaly())")
    if target_values is not None and not np.isfinite(target_values).all():
        causes.append("the target holds NaN/Inf")
    hint = "; ".join(causes) or "check the inputs and learning rate (cr.detect_anomaly() finds it)"
    raise ChainruleError(f"{name}: the loss is {found} for input {input} and target {target}: {hint}")


_finite_check_p = Primitive("check_finite", _finite_check)


class MSELoss(_Loss):
    """Mean squared error: mean((input - target)^2) ('sum': the sum; 'none': each term)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: mean(|input - target|)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above (see ``F.smooth_l1_loss``); beta = 0 is L1."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, delta-scaled absolute error above (see ``F.huber_loss``)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence of ``target`` p from the log-probabilities ``input`` (see ``F.kl_div``);
    use reduction='batchmean' for the true KL divergence per sample."""

    _reductions = REDUCTIONS + ("batchmean",)

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for pairs labelled 1, max(0, cos(x1, x2) - margin) for pairs labelled -1."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(weight)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax and negative log-likelihood fused: input (N, C) or (N, C, d1, ...) raw scores."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid and binary cross-entropy fused (stable for large |x|)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if pos_weight is not None and not isinstance(pos_weight, Tensor):
            pos_weight = Tensor(pos_weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1]."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)
