"""Hooks: the handle that removes one, and module backward hooks.

A full backward hook ``hook(module, grad_input, grad_output)`` runs once the gradients with
respect to a module's tensor inputs are known. How: the tensor inputs are passed through an
identity (clone) before ``forward`` and hooks are registered on the clones and on the outputs.
The engine visits the outputs first (they are later in the forward pass), so by the time
dL/d(input) arrives, dL/d(output) is already recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import is_grad_enabled
from ..errors import ChainruleError
from ..ops.unary import clone
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable

    from .module import Module


def _tensors(value: object) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, Tensor)]
    return []


def call_with_backward_hooks(module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if not is_grad_enabled():
        return module.forward(*args, **kwargs)
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    args = tuple(clone(a) if i in positions else a for i, a in enumerate(args))
    output = module.forward(*args, **kwargs)
    outputs = [t for t in _tensors(output) if t.requires_grad]
    if not outputs:
        return output
    grad_outputs: list[Tensor | None] = [None] * len(outputs)
    grad_inputs: list[Tensor | None] = [None] * len(positions)
    arrived: set[int] = set()

    def run_hooks() -> tuple[Any, ...] | None:
        replaced = None
        for hook in list(module._backward_hooks.values()):
            result = hook(module, tuple(grad_inputs) if positions else (None,), tuple(grad_outputs))
            if result is not None:
                replaced = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        return replaced

    def on_output(k: int) -> Callable[[Tensor], None]:
        def record(grad: Tensor) -> None:
            grad_outputs[k] = grad
            if not positions and k == len(outputs) - 1:
                run_hooks()
        return record

    def on_input(k: int) -> Callable[[Tensor], Tensor | None]:
        def record(grad: Tensor) -> Tensor | None:
            grad_inputs[k] = grad
            arrived.add(k)
            if len(arrived) == len(positions):
                replaced = run_hooks()
                if replaced is not None:
                    if len(positions) != 1:
                        raise ChainruleError(f"{type(module).__name__} backward hook: replacing grad_input "
                                             "is supported only for modules with one tensor input")
                    return replaced[0]
            return None
        return record

    for k, t in enumerate(outputs):
        t.register_hook(on_output(k))
    for k, i in enumerate(positions):
        args[i].register_hook(on_input(k))
    return output


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Any]) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
