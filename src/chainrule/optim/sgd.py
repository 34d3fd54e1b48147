"""Stochastic gradient descent: the lesson's update rule, with PyTorch's momentum options."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from .optimizer import Optimizer

if TYPE_CHECKING:
    from typing import Any

    from .._typing import ParamsT


class SGD(Optimizer):
    r"""Stochastic gradient descent.

    The lesson's rule, applied to every parameter after ``backward()``::

        w_new = w_old - lr * gradient

    With the options (PyTorch's exact order of operations), at step t with gradient g_t::

        g_t = -g_t                                    if maximize
        g_t = g_t + weight_decay * w                  (L2 penalty folded into the gradient)
        b_1 = g_1;  b_t = momentum * b_{t-1} + (1 - dampening) * g_t      if momentum != 0
        d_t = g_t + momentum * b_t  if nesterov  else  b_t                if momentum != 0
        d_t = g_t                                                         otherwise
        w   = w - lr * d_t

    State per parameter: ``momentum_buffer`` (b_t), only when momentum != 0.

    ``foreach=True`` or ``fused=True``: the parameters live in one flat buffer and the update is a
    few whole-buffer calls (optim/fused.py); the values are the same.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ArgumentError(f"SGD: invalid learning rate {lr} (must be >= 0)")
        if momentum < 0.0:
            raise ArgumentError(f"SGD: invalid momentum {momentum} (must be >= 0)")
        if weight_decay < 0.0:
            raise ArgumentError(f"SGD: invalid weight_decay {weight_decay} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)
        self._use_flat_buffers(foreach, fused)

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        lr, momentum = group["lr"], group["momentum"]
        direction = self._effective_grad(param, grad, group["weight_decay"], group["maximize"])
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = direction.copy()
            else:
                buffer *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    buffer += direction
                else:
                    buffer += (1.0 - dampening) * direction
            if group["nesterov"]:
                step_direction = self._work_array(param, 1)
                np.multiply(buffer, momentum, out=step_direction)
                step_direction += direction
                direction = step_direction
            else:
                direction = buffer
        update = self._work_array(param, 1)
        np.multiply(direction, lr, out=update)
        param -= update
