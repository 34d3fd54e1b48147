"""Adam and AdamW: per-coordinate step sizes from running moments of the gradient."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from .optimizer import Optimizer

if TYPE_CHECKING:
    from typing import Any

    from .._typing import ParamsT


def _check_adam_options(name: str, lr: float, betas: tuple[float, float], eps: float,
                        weight_decay: float) -> None:
    if lr < 0.0:
        raise ArgumentError(f"{name}: invalid learning rate {lr} (must be >= 0)")
    if eps < 0.0:
        raise ArgumentError(f"{name}: invalid eps {eps} (must be >= 0)")
    if len(betas) != 2 or not all(0.0 <= beta < 1.0 for beta in betas):
        raise ArgumentError(f"{name}: invalid betas {betas} (two numbers in [0, 1))")
    if weight_decay < 0.0:
        raise ArgumentError(f"{name}: invalid weight_decay {weight_decay} (must be >= 0)")


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with PyTorch's update order.

    At step t with gradient g (negated first if maximize)::

        g   = g + weight_decay * w                       (Adam: L2 penalty in the gradient)
        m   = beta1 * m + (1 - beta1) * g                (first moment: mean of g)
        v   = beta2 * v + (1 - beta2) * g * g            (second moment: mean of g^2)
        v_max = max(v_max, v)  and use v_max for v       if amsgrad
        w   = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The factors 1 - beta^t undo the pull of the zero-initialised moments toward 0.
    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq``.
    """

    _decoupled_weight_decay = False

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        _check_adam_options(type(self).__name__, lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)
        self._use_flat_buffers(foreach, fused)

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]

        if self._decoupled_weight_decay:
            if weight_decay:
                param *= 1.0 - lr * weight_decay       # AdamW: shrink w directly
            grad = self._effective_grad(param, grad, 0.0, group["maximize"])
        else:
            grad = self._effective_grad(param, grad, weight_decay, group["maximize"])

        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1.0 - beta1) * grad
        exp_avg_sq *= beta2
        squared = self._work_array(param, 1)
        np.multiply(grad, grad, out=squared)
        squared *= 1.0 - beta2
        exp_avg_sq += squared

        second_moment = exp_avg_sq
        if group["amsgrad"]:
            max_exp_avg_sq = state.get("max_exp_avg_sq")
            if max_exp_avg_sq is None:
                max_exp_avg_sq = state["max_exp_avg_sq"] = np.zeros_like(param)
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second_moment = max_exp_avg_sq

        step_size = lr / (1.0 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** step)
        denominator = self._work_array(param, 1)
        np.sqrt(second_moment, out=denominator)
        denominator /= bias_correction2_sqrt
        denominator += eps
        np.divide(exp_avg, denominator, out=denominator)
        denominator *= step_size
        param -= denominator


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Instead of adding weight_decay * w to the gradient (which Adam's normalisation then
    rescales), AdamW shrinks the weights directly before the Adam step::

        w = w * (1 - lr * weight_decay)
        w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    with m and v computed from the plain gradient.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach, fused=fused)
