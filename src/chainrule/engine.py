"""The reverse walk: the chain rule applied node by node, from an output back to the leaves.

``_run(roots, root_grads, ...)`` orders the nodes reachable from the roots (iteratively, so a
100,000-node chain is fine), then visits them from the roots down. At each node it has
dL/d(output) and asks the primitive's vector-Jacobian products (primitive.py) for dL/d(input_i):

        dL/d(input_i) = VJP_i(dL/d(output))        (the chain rule, one node at a time)

Gradients of inputs that were broadcast are summed back to the input's shape here, in one
place, so no op has to:

        an input of shape (1, n) broadcast to (m, n):   dL/d(input) = sum over the m rows of dL/d(output)

Gradients reaching a value used twice are added (dL/dx = sum over x's uses of each use's share).
Tensor hooks and retain_grad run as the walk reaches a tensor; leaves accumulate into ``.grad``
(``_accumulate_leaf``, PyTorch semantics). Unless ``retain_graph`` is set, each node drops its
inputs once it has been used, so the intermediate arrays are freed as the walk goes. An input
changed in place since the op ran is followed to the version the op saw (in_place.py).

With ``create_graph=True`` the VJPs run on Tensors instead of arrays, so the backward pass is
itself recorded and can be differentiated again (higher-order gradients). The public entry points
are ``backward`` and ``grad`` in autograd.py.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from .backend import np
from .errors import GraphError
from .grad_mode import _mode
from .in_place import _check_recomputed, _overwritten_error, _sources_after_in_place, _versions_seen
from .primitive import _check_finite, _Namespaces, apply
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from .primitive import Primitive


def _freed_error(tensor: Tensor) -> GraphError:
    return GraphError(
        f"trying to backward through the graph a second time (through '{tensor._prim.name}'): its saved "  # type: ignore[union-attr]
        "values were freed by the first backward. Pass retain_graph=True to the first backward() "
        "(or cr.grad) if you need to go through the graph twice."
    )


def _topological_order(roots: Iterable[Tensor]) -> list[Tensor]:
    """Op-made tensors reachable from ``roots``, each after every tensor that consumes it
    (iterative DFS; a first input is explored first, so read backwards the order follows the
    forward pass)."""
    post_order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[Tensor | None] = list(roots)
    while stack:
        tensor = stack.pop()
        if tensor is None:  # "everything above me is done": the tensor under the marker is finished
            post_order.append(stack.pop())  # type: ignore[arg-type]  # a tensor is under each marker
            continue
        if tensor in visited:
            continue
        visited.add(tensor)
        inputs = tensor._inputs()
        if inputs is None:
            raise _freed_error(tensor)
        stack.append(tensor)
        stack.append(None)
        pushed = len(stack)
        version_sum = 0
        for child in reversed(inputs):
            version_sum += child._version
            if child._prim is not None and child not in visited:
                stack.append(child)
        if version_sum != tensor._version_sum:   # changed in place since: follow the earlier versions
            del stack[pushed:]   # (not the tensors as they are now, which may even use this one)
            for child in reversed(_versions_seen(tensor, inputs)):
                if child._prim is not None and child not in visited:
                    stack.append(child)
    post_order.reverse()
    return post_order


def _sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting: sum ``grad`` over the axes along which an input of ``shape`` was stretched."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra or grad.shape != tuple(shape):
        grad = grad.reshape(shape)
    return grad


def _as_grad(value: Any, like: np.ndarray, create_graph: bool, hook: object = None) -> Any:
    """A hook's return value as the engine's representation: same shape as the gradient it
    replaces (else a clear error naming the hook), cast to its dtype."""
    shape = getattr(value, "shape", None)
    if shape is None:
        shape = np.shape(value)
    if tuple(shape) != like.shape:
        name = getattr(hook, "__name__", repr(hook))
        raise GraphError(f"hook {name!r} returned a gradient of shape {tuple(shape)} for a tensor of shape "
                         f"{like.shape}: a hook may change the values of a gradient, not its shape")
    if isinstance(value, Tensor):
        if create_graph:
            return value if value.dtype == like.dtype else value.to(like.dtype)
        return value._data.astype(like.dtype, copy=False)
    array = np.asarray(value, dtype=like.dtype)
    return Tensor._wrap(array) if create_graph else array


def _run(roots: Sequence[Tensor], root_grads: Sequence[Any], retain_graph: bool, create_graph: bool,
         capture: dict[Tensor, Any] | None = None,
         on_leaf_done: Callable[[Tensor, Any], None] | None = None) -> dict[Tensor, Any]:
    """Propagate gradients from ``roots``. Returns {leaf tensor: grad} and fills ``capture``
    ({tensor: grad}) for the non-leaf tensors whose gradient was asked for.

    The walk makes no reference cycles, so Python's cycle collector is paused while it runs:
    on a deep graph it would otherwise rescan every live node again and again for nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with np.errstate(all="ignore"):   # NaN/Inf arise silently, as in PyTorch (detect_anomaly finds them)
            return _walk(roots, root_grads, retain_graph, create_graph, capture, on_leaf_done)
    finally:
        if collecting:
            gc.enable()


def _walk(roots: Sequence[Tensor], root_grads: Sequence[Any], retain_graph: bool, create_graph: bool,
          capture: dict[Tensor, Any] | None,
          on_leaf_done: Callable[[Tensor, Any], None] | None) -> dict[Tensor, Any]:
    xp = _Namespaces.tensors if create_graph else _Namespaces.arrays
    grads: dict[Tensor, Any] = {}  # tensor -> dL/d(tensor) so far; what is left at the end belongs to leaves
    for root, grad in zip(roots, root_grads):
        grads[root] = grad if root not in grads else grads[root] + grad
    order = _topological_order([r for r in roots if r._prim is not None])
    # With post-accumulate hooks somewhere (DistributedDataParallel's buckets), a leaf's gradient is
    # handed over as soon as the last op that uses it has run, while the walk goes on.
    pending = _leaf_uses(order) if on_leaf_done is not None and _PostAccumulate.registered else None
    order.reverse()
    anomaly = _mode.anomaly
    prim: Primitive          # the record of an op-made tensor (the walk visits no leaves)
    params: dict[str, Any]
    sources: Sequence[Tensor]
    values: Sequence[Any]
    output: Any
    while order:
        tensor = order.pop()  # once used, nothing here keeps it (or what it saved) alive
        grad_output = grads.pop(tensor, None)
        if grad_output is None:
            continue
        if tensor._extra is not None:  # hooks, retain_grad, values written over in place
            grad_output = _run_tensor_hooks(tensor, grad_output, create_graph)
        if capture is not None and tensor in capture:
            capture[tensor] = grad_output
        inputs, prim, params = tensor._inputs(), tensor._prim, tensor._params  # type: ignore[assignment]
        if inputs is None:
            raise _freed_error(tensor)
        version_sum = 0
        for t in inputs:
            version_sum += t._version
        sources = inputs   # where each input's gradient goes: the input, or its earlier version
        if version_sum != tensor._version_sum:
            sources = _sources_after_in_place(tensor, inputs, prim)
        if create_graph:   # the output again, recorded: from the inputs as the op saw them
            values, output = inputs, apply(prim, tuple(sources), params)
            if prim.reads_output and (sources is not inputs or any(t._overwritten for t in inputs)):
                _check_recomputed(tensor, output, prim)
        else:
            values, output = [t._data for t in inputs], tensor._data
        vjps, input_grads = prim.vjps, None
        if prim.vjp_all is not None:  # variadic ops: all input gradients from one call
            input_grads = prim.vjp_all(xp, grad_output, output, values,
                                       [t._requires_grad for t in inputs], **params)
        for i, t in enumerate(sources):  # only inputs that need a gradient get their VJP run
            if not t._requires_grad:
                continue
            if input_grads is None:
                grad = vjps[i](xp, grad_output, output, *values, **params)
            elif input_grads[i] is None:
                continue
            else:
                grad = input_grads[i]
            data = t._data   # (0-d math may hand back NumPy scalars: fine here, Tensor._wrap makes arrays)
            if grad.shape != data.shape:
                grad = _sum_to_shape(grad, data.shape)
            if grad.dtype != data.dtype:
                grad = grad.to(data.dtype) if create_graph else grad.astype(data.dtype)
            if anomaly:
                _check_finite(grad._data if create_graph else grad, "the backward", prim, inputs,
                              tensor._trace)
            previous = grads.get(t)
            grads[t] = grad if previous is None else _added(previous, grad, create_graph)
            if pending is not None and t in pending:
                pending[t] -= 1
                if not pending[t]:   # every use of this leaf has contributed: its gradient is final
                    del pending[t]
                    on_leaf_done(t, grads.pop(t))  # type: ignore[misc]  # set when pending is
        if not retain_graph:
            tensor._free()
    return grads



def _leaf_uses(order: Iterable[Tensor]) -> dict[Tensor, int]:
    """{leaf that requires grad: how many op inputs it is} over the ops the walk will visit."""
    uses: dict[Tensor, int] = {}
    for tensor in order:
        for t in tensor._inputs():  # type: ignore[union-attr]  # not freed before the walk
            if t._prim is None and t._requires_grad:
                uses[t] = uses.get(t, 0) + 1
    return uses


class _PostAccumulate:
    """How many post-accumulate-grad hooks exist (the walk counts leaf uses only when some do)."""

    registered = 0


def _added(total: Any, grad: Any, create_graph: bool) -> Any:
    """total + grad for two gradients of one tensor (a NumPy scalar when both are 0-d: whatever is
    stored in a tensor goes through Tensor._wrap, which makes it an array)."""
    return total + grad


def _run_tensor_hooks(tensor: Tensor, grad_output: Any, create_graph: bool) -> Any:
    """A non-leaf's hooks (each may replace the gradient) and retain_grad, as the walk reaches it."""
    if tensor._overwritten and tensor._prim.reads_output:  # type: ignore[union-attr]
        raise _overwritten_error(tensor)
    for hook in tensor._hooks or ():
        returned = hook(grad_output if create_graph else Tensor._wrap(grad_output))
        if returned is not None:
            grad_output = _as_grad(returned, tensor._data, create_graph, hook)
    if tensor._retained:   # accumulates over backward calls, as a leaf's .grad does (PyTorch)
        if create_graph:
            tensor._grad = grad_output if tensor._grad is None else tensor._grad + grad_output
        elif tensor._grad is None:
            tensor._grad = Tensor._wrap(np.array(grad_output, copy=True))
        else:
            tensor._grad = Tensor._wrap(tensor._grad._data + grad_output)
    return grad_output



def _accumulate_leaf(leaf: Tensor, grad: Any, create_graph: bool, handed_out: set[int]) -> None:
    extra = leaf._extra   # hooks live there; most leaves have none
    if extra is not None and leaf._hooks:
        for hook in leaf._hooks:
            returned = hook(grad if create_graph else Tensor._wrap(grad))
            if returned is not None:
                grad = _as_grad(returned, leaf._data, create_graph, hook)
    if create_graph:
        leaf._grad = grad if leaf._grad is None else leaf._grad + grad
    elif leaf._grad is None:
        # never store an array another leaf may share (pass-through VJPs such as add) or a view
        owned = grad.flags.owndata and grad.flags.writeable and id(grad) not in handed_out
        handed_out.add(id(grad))
        leaf._grad = Tensor._wrap(grad if owned else grad.copy())
    else:
        leaf._grad = Tensor._wrap(_added(leaf._grad._data, grad, False))
    if extra is not None:
        for hook in leaf._post_hooks or ():
            hook(leaf)
