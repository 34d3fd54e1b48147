"""RMSprop: divide each step by a running root-mean-square of recent gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from .optimizer import Optimizer

if TYPE_CHECKING:
    from typing import Any

    from .._typing import ParamsT


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e) with PyTorch's update order.

    At each step with gradient g (negated first if maximize)::

        g   = g + weight_decay * w
        s   = alpha * s + (1 - alpha) * g * g            (running mean of g^2)
        a   = alpha * a + (1 - alpha) * g                if centered (running mean of g)
        rms = sqrt(s - a * a) + eps   if centered   else   sqrt(s) + eps
        b   = momentum * b + g / rms;  w = w - lr * b    if momentum > 0
        w   = w - lr * g / rms                            otherwise

    State per parameter: ``step``, ``square_avg`` (s), ``momentum_buffer`` (b), ``grad_avg`` (a).

    ``foreach=True``: the parameters live in one flat buffer and the update rule runs once on
    it (optim/fused.py); the values are bitwise those of the per-parameter loop (``None`` and
    ``False``: the loop).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        for option, value in dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                  momentum=momentum).items():
            if value < 0.0:
                raise ArgumentError(f"RMSprop: invalid {option} {value} (must be >= 0)")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)
        self._use_flat_buffers(foreach, None)

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        grad = self._effective_grad(param, grad, group["weight_decay"], group["maximize"])

        square_avg = state["square_avg"]
        rms = self._work_array(param, 1)
        np.multiply(grad, grad, out=rms)
        rms *= 1.0 - alpha
        square_avg *= alpha
        square_avg += rms
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", np.zeros_like(param))
            grad_avg *= alpha
            grad_avg += (1.0 - alpha) * grad
            np.multiply(grad_avg, grad_avg, out=rms)
            np.subtract(square_avg, rms, out=rms)
            np.sqrt(rms, out=rms)
        else:
            np.sqrt(square_avg, out=rms)
        rms += eps

        if momentum > 0:
            buffer = state.setdefault("momentum_buffer", np.zeros_like(param))
            buffer *= momentum
            np.divide(grad, rms, out=rms)
            buffer += rms
            np.multiply(buffer, lr, out=rms)
        else:
            np.divide(grad, rms, out=rms)
            rms *= lr
        param -= rms
