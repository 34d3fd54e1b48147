"""Adagrad: each coordinate's step shrinks with the sum of all its squared gradients so far."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from .optimizer import Optimizer

if TYPE_CHECKING:
    from typing import Any

    from .._typing import ParamsT


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011) with PyTorch's update order.

    At step t with gradient g (negated first if maximize)::

        g   = g + weight_decay * w
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s   = s + g * g                       (s starts at initial_accumulator_value)
        w   = w - lr_t * g / (sqrt(s) + eps)

    Coordinates with large past gradients take small steps, rare ones large steps. The sum only
    grows, so the steps keep shrinking (RMSprop and Adam forget old gradients instead).
    State per parameter (made when the optimizer is built, as in PyTorch): ``step``, ``sum`` (s).

    ``foreach=True`` or ``fused=True``: the parameters live in one flat buffer and the update rule
    runs once on it (optim/fused.py); the values are bitwise those of the per-parameter loop
    (``None`` and ``False``: the loop).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, fused: bool | None = None) -> None:
        for option, value in dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                  initial_accumulator_value=initial_accumulator_value, eps=eps).items():
            if value < 0.0:
                raise ArgumentError(f"Adagrad: invalid {option} {value} (must be >= 0)")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._initial_state(self.state.setdefault(param, {}), param._data, group)
        self._use_flat_buffers(foreach, fused)

    @staticmethod
    def _initial_state(state: dict[str, Any], param: np.ndarray, group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        self._initial_state(state, param, group)   # a group added after construction
        state["step"] += 1
        grad = self._effective_grad(param, grad, group["weight_decay"], group["maximize"])
        step_size = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        accumulated = state["sum"]
        squared = self._work_array(param, 1)
        np.multiply(grad, grad, out=squared)
        accumulated += squared
        denominator = squared
        np.sqrt(accumulated, out=denominator)
        denominator += group["eps"]
        np.divide(grad, denominator, out=denominator)
        denominator *= step_size
        param -= denominator
