"""The engine's public face: ``backward``, ``grad``, tensor hooks and retain_grad.

Forward: every op runs through ``apply(prim, inputs, params)``, which computes a primitive on the
inputs' arrays and, when a gradient is needed, makes the result a node of the graph recording the
primitive and its inputs (``t.grad_fn`` shows it).

Backward: ``backward(root)`` and ``grad(outputs, inputs)`` walk that graph from the output down and
apply the chain rule at each node,

        dL/d(input_i) = VJP_i(dL/d(output))

``backward`` accumulates the leaves' gradients into ``.grad`` (PyTorch semantics); ``grad`` returns
them and touches no ``.grad``. With ``create_graph=True`` the backward pass is itself recorded and
can be differentiated again (higher-order gradients).

The engine, by file:

    primitive.py   Primitive (one row of the derivative table: forward, VJPs, JVP) and apply
    engine.py      the reverse walk: order, the chain rule per node, broadcast sums, leaf gradients
    in_place.py    in-place changes: the version history the walk follows, forward mode's part
    grad_mode.py   the switches: no_grad, enable_grad, set_grad_enabled, detect_anomaly
    autograd.py    this file: backward, grad, hooks (the names users call)

``Primitive`` and ``apply`` are importable from here as well, and ``chainrule.autograd.Function``
is the custom-function class (function.py), at torch.autograd.Function's path.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from .backend import np
from .engine import _accumulate_leaf, _PostAccumulate, _run
from .errors import ArgumentError, GraphError, ShapeError
from .grad_mode import (  # noqa: F401 - the engine's public switches live there
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .primitive import Primitive, apply  # noqa: F401 - the op recording, at the engine's public path
from .tensor import Node, Tensor  # noqa: F401 - Node (what grad_fn shows) is part of the engine's face

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ._typing import ArrayLike, TensorHook
    from .function import Function as Function  # torch.autograd.Function's path: set by chainrule/__init__
    from .function import FunctionCtx as FunctionCtx


def _root_grad(root: Tensor, gradient: Tensor | ArrayLike | None, create_graph: bool) -> Any:
    if gradient is None:
        if root._data.size != 1:
            raise GraphError(
                f"backward() on a tensor of shape {root.shape} needs a gradient argument: the gradient "
                "can only be created implicitly for a scalar (one-element) output")
        array = np.ones(root._data.shape, root._data.dtype)
    else:
        array = np.array(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)
        if array.shape != root.shape:
            raise ShapeError(f"backward(): gradient of shape {array.shape} does not match the output "
                             f"shape {root.shape}")
    if create_graph and isinstance(gradient, Tensor):
        return gradient
    return Tensor._wrap(array) if create_graph else array


def _check_root(root: Tensor, position: str) -> None:
    if not isinstance(root, Tensor):
        raise ArgumentError(f"{position} must be a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise GraphError(f"{position} (shape {root.shape}) does not require grad and has no graph: "
                         "nothing to differentiate (did you forget requires_grad=True, or compute it "
                         "under no_grad?)")


class IntoGrad:
    """The seam for compiled blocks: ``now`` is True while a walk started by ``backward()`` runs (its
    leaf gradients end in ``.grad``), False under ``cr.grad`` and create_graph. A compiled block
    (chainrule.compiler) then adds its parameters' gradients into ``.grad`` itself, in buffers it
    reuses, instead of handing them to the walk."""

    now = False


def backward(tensor: Tensor, gradient: Tensor | None = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (times ``gradient`` if given)."""
    _check_root(tensor, "backward(): the output")
    retain = create_graph if retain_graph is None else retain_graph
    root_grad = _root_grad(tensor, gradient, create_graph)
    handed_out: set[int] = set()

    # for leaves whose gradient is final during the walk (post-accumulate hooks)
    def accumulate(leaf: Tensor, grad: Any) -> None:
        _accumulate_leaf(leaf, grad, create_graph, handed_out)

    into_grad, IntoGrad.now = IntoGrad.now, not create_graph
    try:
        with set_grad_enabled(create_graph):
            leaf_grads = _run([tensor], [root_grad], retain, create_graph, on_leaf_done=accumulate)
            for leaf, grad in leaf_grads.items():
                accumulate(leaf, grad)
    finally:
        IntoGrad.now = into_grad



def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, out in enumerate(outputs):
        _check_root(out, f"cr.grad: output {i}")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise GraphError(f"cr.grad: input {i} does not require grad, so it has no gradient")
    retain = create_graph if retain_graph is None else retain_graph
    roots = [_root_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    capture = {t: None for t in inputs if t._prim is not None}
    into_grad, IntoGrad.now = IntoGrad.now, False
    try:
        with set_grad_enabled(create_graph):
            leaf_grads = _run(outputs, roots, retain, create_graph, capture)
    finally:
        IntoGrad.now = into_grad
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        value = leaf_grads.get(t) if t._prim is None else capture.get(t)
        if value is None:  # an input that is itself an output (compared by identity)
            value = next((g for o, g in zip(outputs, roots) if o is t), None)
        if value is None:
            if not allow_unused:
                raise GraphError(f"cr.grad: input {i} (shape {t.shape}) was not used to compute the "
                                 "outputs; pass allow_unused=True to get None for it")
            results.append(None)
            continue
        results.append(value if create_graph else Tensor._wrap(np.array(value, copy=True)))
    return tuple(results)


class HookHandle:
    """What ``register_hook`` / ``register_post_accumulate_grad_hook`` return: ``handle.remove()``
    takes the hook off again (the handle holds the tensor weakly)."""

    __slots__ = ("_tensor", "_field", "_hook")

    def __init__(self, tensor: Tensor, field: str, hook: Callable[..., Any]) -> None:
        self._tensor, self._field, self._hook = weakref.ref(tensor), field, hook

    def remove(self) -> None:
        tensor = self._tensor()
        hooks = None if tensor is None else getattr(tensor, self._field)
        if hooks and self._hook in hooks:
            remaining = [h for h in hooks if h is not self._hook]
            setattr(tensor, self._field, remaining or None)
            if self._field == "_post_hooks":
                _PostAccumulate.registered -= 1

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_hook(tensor: Tensor, hook: TensorHook) -> HookHandle:
    """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
    if not tensor.requires_grad:
        raise GraphError(f"cannot register a hook on a tensor (shape {tensor.shape}) that does not "
                         "require grad")
    tensor._hooks = (tensor._hooks or []) + [hook]
    return HookHandle(tensor, "_hooks", hook)


def register_post_accumulate_grad_hook(tensor: Tensor, hook: Callable[[Tensor], None]) -> HookHandle:
    """Call ``hook(tensor)`` right after backward has accumulated this leaf's ``.grad`` -- during the
    walk, as soon as the last op using the leaf has run (what overlapping gradient all-reduce needs)."""
    if tensor._prim is not None:
        raise GraphError("post accumulate grad hooks cannot be registered on non-leaf tensors "
                         f"(this one, shape {tensor.shape}, was made by '{tensor._prim.name}')")
    if not tensor.requires_grad:
        raise GraphError(f"cannot register a hook on a tensor (shape {tensor.shape}) that does not "
                         "require grad")
    tensor._post_hooks = (tensor._post_hooks or []) + [hook]
    _PostAccumulate.registered += 1
    return HookHandle(tensor, "_post_hooks", hook)


def retain_grad(tensor: Tensor) -> None:
    """Keep ``.grad`` on a non-leaf tensor after backward (leaves always keep theirs)."""
    if tensor._prim is not None:
        tensor._retained = True
