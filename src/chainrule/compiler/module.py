"""``cr.compile(model)``: a Module whose forward is the model's, compiled.

As PyTorch's ``torch.compile`` returns an ``OptimizedModule``, this returns a ``CompiledModule`` that
holds the model as ``_orig_mod``: the same parameters (``compiled.parameters()`` are the model's,
so an optimiser built on either works), ``state_dict`` keys prefixed ``_orig_mod.`` as PyTorch
writes them, ``train()``/``eval()`` reaching the model, and any other attribute read from the
model. Hooks registered on the compiled module run around the compiled call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..nn.module import Module
from .compiled import CompiledFunction

if TYPE_CHECKING:
    from .compiled import CompileStats


class CompiledModule(Module):
    """``module`` with its calls recorded once per signature and replayed (chainrule.compiler)."""

    def __init__(self, module: Module, **options: Any) -> None:
        super().__init__()
        self._orig_mod = module
        object.__setattr__(self, "_compiled", CompiledFunction(lambda *a, **k: module(*a, **k),
                                                               type(module).__name__, **options))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return Module.__call__(self, *args, **kwargs)
        return self._compiled(*args, **kwargs)

    @property
    def stats(self) -> CompileStats:
        """Plans recorded, calls replayed / run eagerly / checked (CompileStats)."""
        return self._compiled.stats

    def plans(self) -> list:
        return self._compiled.plans()

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    def __repr__(self) -> str:
        return f"CompiledModule({self._orig_mod!r})"
