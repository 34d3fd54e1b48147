"""``cr.compile``: record a forward pass once, replay it as straight-line NumPy calls.

    model = cr.compile(model)                    # as torch.compile: the training loop is unchanged
    loss = F.cross_entropy(model(x), y)          # 1st call per signature: eager, and recorded
    loss.backward()                              # later calls: the plan replayed, one graph node
    step = cr.compile(lambda x, y: ...)          # a function of tensors works too

Why: on small models most of an eager step is bookkeeping paid again on every call -- a node per
op, the topological sort, a dict of gradients -- for a graph that is the same each time. A plan
pays it once: the forward becomes one generated Python function calling each op's NumPy forward in
turn, the backward another calling the ops' VJPs in the order the engine's walk would, and the
whole call is one node of the graph, so what surrounds it (the loss, ``backward()``, optimisers,
leaf hooks, ``explain``) works as before.

How (one file each):

    trace.py     the recording: the engine's tracer seam (primitive._tracer) routes every op through
                 a recorder; what makes a replay unsound is detected and named
    watch.py     what the recorder watches: tensor values read or written by Python (Tensor._data
                 swapped for a watching descriptor), modules called, random draws
    plan.py      from a recording to a plan: backward order, the block's inputs, what is saved
    codegen.py   the plan as Python source (``plan.source``)
    block.py     a replayed call as one graph node (create_graph and several outputs included)
    compiled.py  signatures, guards, the cache of plans, eager fallback with one warning
    check.py     replay against eager: ``mode="check"``, and the first replay of every plan
    module.py    CompiledModule, what ``cr.compile(module)`` returns

Options (PyTorch's where they mean something here): ``mode="check"`` also runs every call eagerly and
raises CompileCheckError unless results and gradients agree; ``fullgraph=True`` raises CompileError
instead of falling back; ``disable=True`` returns the model unchanged; ``cache_limit`` bounds the
plans per function (8). ``dynamic``, ``backend`` and ``options`` are accepted and ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from ..nn.module import Module
from .check import CompileCheckError
from .compiled import CompiledFunction, CompileError, CompileStats, CompileWarning
from .module import CompiledModule

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._typing import P, R_co

_MODES = ("default", "check", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs", None)


@overload
def compile(model: Callable[P, R_co], *, mode: str | None = None, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None, backend: object = None, options: dict[str, Any] | None = None,
            disable: bool = False, cache_limit: int = 8) -> Callable[P, R_co]: ...
@overload
def compile(model: None = None, *, mode: str | None = None, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None, backend: object = None, options: dict[str, Any] | None = None,
            disable: bool = False,
            cache_limit: int = 8) -> Callable[[Callable[P, R_co]], Callable[P, R_co]]: ...


def compile(model: Callable[..., Any] | None = None, *, mode: str | None = None,  # noqa: A001
            fullgraph: bool = False, dynamic: bool | None = None, backend: object = None,
            options: dict[str, Any] | None = None, disable: bool = False, cache_limit: int = 8) -> Any:
    # (a CompiledModule for a Module, a CompiledFunction for a function: callable as the model was)
    """Compile a Module or a function of tensors (see the package docstring); as a decorator too."""
    if mode not in _MODES:
        raise ValueError(f"cr.compile: unknown mode {mode!r}; use 'default' or 'check'")
    settings: dict[str, Any] = {"mode": "check" if mode == "check" else "default", "fullgraph": fullgraph,
                "cache_limit": cache_limit}
    if model is None:
        return lambda fn: compile(fn, mode=mode, fullgraph=fullgraph, disable=disable,
                                  cache_limit=cache_limit)
    if disable:
        return model
    if isinstance(model, Module):
        return CompiledModule(model, **settings)
    if not callable(model):
        raise TypeError(f"cr.compile: expected a Module or a function, got {type(model).__name__}")
    compiled = CompiledFunction(model, getattr(model, "__name__", type(model).__name__), **settings)
    compiled.__wrapped__ = model  # type: ignore[attr-defined]
    compiled.__doc__ = getattr(model, "__doc__", None)
    return compiled


__all__ = ["compile", "CompiledModule", "CompiledFunction", "CompileStats", "CompileWarning", "CompileError",
           "CompileCheckError"]
