"""Adamax, NAdam and RAdam: three variations on Adam's running moments, with PyTorch's update order."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from .adam import _check_adam_options
from .optimizer import Optimizer

if TYPE_CHECKING:
    from typing import Any

    from .._typing import ParamsT


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start = start + weight * (end - start) in place, computed as PyTorch's lerp_ does (from the
    nearer end), so running averages agree with PyTorch's to the last bit more often."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1.0 - weight)


def _decayed_grad(optimizer: Optimizer, param: np.ndarray, grad: np.ndarray,
                  group: dict[str, Any]) -> np.ndarray:
    """g (negated if maximize) plus weight_decay * w, or w shrunk by lr * weight_decay when the
    decay is decoupled (AdamW's way)."""
    weight_decay = group["weight_decay"]
    if group.get("decoupled_weight_decay") and weight_decay:
        param *= 1.0 - group["lr"] * weight_decay
        weight_decay = 0.0
    return optimizer._effective_grad(param, grad, weight_decay, group["maximize"])


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7): Adam with the infinity norm for the second moment.

    At step t with gradient g (negated first if maximize)::

        g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)              (a decaying maximum of |g|)
        w = w - lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

    ``foreach=True``: the parameters live in one flat buffer and the update rule runs once on
    it (optim/fused.py); the values are bitwise those of the per-parameter loop (``None`` and
    ``False``: the loop).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *, maximize: bool = False) -> None:
        _check_adam_options("Adamax", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))
        self._use_flat_buffers(foreach, None)

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_inf=np.zeros_like(param))
        state["step"] += 1
        grad = _decayed_grad(self, param, grad, group)
        _lerp_(state["exp_avg"], grad, 1.0 - beta1)
        exp_inf = state["exp_inf"]
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + group["eps"], out=exp_inf)
        param -= group["lr"] / (1.0 - beta1 ** state["step"]) * (state["exp_avg"] / exp_inf)


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum, and a momentum warm-up.

    At step t with gradient g (negated first if maximize)::

        g    = g + weight_decay * w                (or w = w (1 - lr weight_decay) if decoupled)
        mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay))        (the momentum schedule)
        P_t  = mu_1 mu_2 ... mu_t
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        den = sqrt(v / (1 - beta2^t)) + eps
        w = w - lr (1 - mu_t) / (1 - P_t) * g / den - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / den

    State per parameter: ``step``, ``mu_product`` (P_t), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    ``foreach=True``: the parameters live in one flat buffer and the update rule runs once on
    it (optim/fused.py); the values are bitwise those of the per-parameter loop (``None`` and
    ``False``: the loop).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        _check_adam_options("NAdam", lr, betas, eps, weight_decay)
        if momentum_decay < 0.0:
            raise ArgumentError(f"NAdam: invalid momentum_decay {momentum_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))
        self._use_flat_buffers(foreach, None)

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["momentum_decay"]
        if not state:
            state.update(step=0, mu_product=1.0, exp_avg=np.zeros_like(param),
                         exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        step = state["step"]
        grad = _decayed_grad(self, param, grad, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        denominator = np.sqrt(exp_avg_sq / (1.0 - beta2 ** step))
        denominator += group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denominator)
        param += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denominator)


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2019): Adam whose adaptive step is switched on only once the variance
    of its second-moment estimate is tractable, and rectified by a factor r_t until then.

    At step t with gradient g (negated first if maximize)::

        g = g + weight_decay * w                   (or w = w (1 - lr weight_decay) if decoupled)
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;     rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            w = w - lr * m / (1 - beta1^t) * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps)
        else:
            w = w - lr * m / (1 - beta1^t)           (plain momentum SGD in the first steps)

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).

    ``foreach=True``: the parameters live in one flat buffer and the update rule runs once on
    it (optim/fused.py); the values are bitwise those of the per-parameter loop (``None`` and
    ``False``: the loop).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        _check_adam_options("RAdam", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))
        self._use_flat_buffers(foreach, None)

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        step = state["step"]
        grad = _decayed_grad(self, param, grad, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        bias_correction1, bias_correction2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
        corrected = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = bias_correction2 ** 0.5 / (np.sqrt(exp_avg_sq) + group["eps"])
            param -= corrected * lr * adaptive * rect
        else:
            param -= corrected * lr
