"""The engine: primitives, recording, and the reverse walk that applies the chain rule.

Forward: ``apply(prim, inputs, params)`` computes a primitive on the inputs' arrays and, when
any input requires grad (and grad mode is on), the result records the primitive, its params
and its inputs: each op-made tensor is a node of the graph (``t.grad_fn`` shows it).

Backward: ``backward(root)`` orders the nodes reachable from ``root`` (iteratively, so a
100,000-node chain is fine), then visits them from the root down. At each node it has
dL/d(output) and asks the primitive's vector-Jacobian products for dL/d(input_i):

        dL/d(input_i) = VJP_i(dL/d(output))        (the chain rule, one node at a time)

Gradients of inputs that were broadcast are summed back to the input's shape here, in one
place, so no op has to. Gradients reaching a value used twice are added. Leaves accumulate
into ``.grad`` (PyTorch semantics). Unless ``retain_graph`` is set, each node drops its inputs
once it has been used, so the intermediate arrays are freed as the walk goes.

With ``create_graph=True`` the VJPs run on Tensors instead of arrays, so the backward pass is
itself recorded and can be differentiated again (higher-order gradients).
"""

from __future__ import annotations

import dis
import gc
import inspect
import traceback
import weakref
from typing import TYPE_CHECKING, Any

from .backend import np
from .errors import AnomalyError, ArgumentError, DTypeError, GraphError, ShapeError, describe
from .grad_mode import (  # noqa: F401 - the engine's public switches live there
    _mode,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .tensor import Node, Tensor  # noqa: F401 - Node (what grad_fn shows) is part of the engine's face

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from ._typing import ArrayLike, TensorHook
    from .function import Function as Function  # torch.autograd.Function's path: set by chainrule/__init__
    from .function import FunctionCtx as FunctionCtx


# --- primitives and nodes ---------------------------------------------------------------------
class Primitive:
    """One row of the derivative table: a forward function on arrays, one VJP per input (reverse
    mode) and the JVP (forward mode).

    ``forward(*arrays, **params) -> array``
    ``vjps[i](xp, grad_output, output, *inputs, **params) -> dL/d(input_i)``
    ``vjp_all(xp, grad_output, output, inputs, needs, **params) -> list`` for variadic ops.
    ``jvp``: d(output) from the inputs' tangents d(input_i) (forward_ad.py pushes them), one of
        (jvp_0, jvp_1, ...)   one per input, ``jvp_i(xp, tangent_i, output, *inputs, **params)`` ->
                              input i's share of d(output); the shares of the inputs that have a
                              tangent are added and broadcast to the output's shape (the mirror
                              of the VJPs, whose broadcasting the engine undoes); None: no share
        LINEAR                the op is linear in its inputs: d(output) = forward(d(input_0), ...)
        a function            ``jvp(xp, tangents, output, *inputs, **params) -> d(output)``, the
                              tangents a list holding None for an input without one (variadic ops)
    ``xp`` is the math namespace: NumPy-like functions on arrays, or on Tensors when the
    derivative is itself being recorded (create_graph=True, or nested transforms).
    """

    __slots__ = ("name", "forward", "vjps", "vjp_all", "jvp", "gradient_free", "reads_output", "reads_inputs",
                 "reads_nothing")

    def __init__(self, name: str, forward: Callable[..., Any], *vjps: Callable[..., Any],
                 vjp_all: Callable[..., Any] | None = None, jvp: Any = None) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.vjp_all = vjp_all
        self.jvp = jvp
        # no VJP and no JVP: an op without a derivative (comparisons, argmax, masks, statistics that
        # another op's rule accounts for), applied outside the graph; in forward mode its output has no
        # tangent, as a detached value has none
        self.gradient_free = not vjps and vjp_all is None and jvp is None
        # which saved values the backward reads (see _reads): an input changed in place is an
        # error only if they include it, and a node that reads none keeps its inputs after backward
        functions = vjps + ((vjp_all,) if vjp_all is not None else ())
        read = [_reads(f) for f in functions]
        self.reads_output = any(output for output, _ in read)
        inputs_read = None if any(inputs is None for _, inputs in read) else frozenset().union(
            *(inputs for _, inputs in read))  # type: ignore[arg-type]  # no None among them here
        if inputs_read is not None and vjp_all is None:   # one VJP per input; later names are params
            inputs_read = frozenset(i for i in inputs_read if i < len(vjps))
        self.reads_inputs = inputs_read
        self.reads_nothing = not self.reads_output and self.reads_inputs == frozenset()

    def reads_input(self, index: int) -> bool:
        return self.reads_inputs is None or index in self.reads_inputs

    def __call__(self, *inputs: Tensor, **params: Any) -> Tensor:
        return apply(self, inputs, params)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


LINEAR = "linear"  # a Primitive's jvp when the op is linear in its inputs (see Primitive)


_SHAPE_ONLY = ("shape", "ndim", "dtype")


def _reads(vjp: Callable[..., Any]) -> tuple[bool, frozenset[int] | None]:
    """(reads the output?, positions of the inputs it reads, or None for 'maybe all') of a VJP
    ``vjp(xp, g, y, *inputs, **params)``, read off its bytecode: a parameter counts as read unless
    every use is ``.shape``, ``.ndim`` or ``.dtype`` (so ``lambda xp, g, y, a, b: g`` reads
    nothing, and add's node can be walked again after backward, as in PyTorch). Conservative:
    anything unusual (``*args``, a variadic ``inputs`` list, a closure) counts as reading."""
    code = vjp.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) and code.co_argcount < 4:
        return True, None
    names = code.co_varnames[2:code.co_argcount]   # y, then the inputs (params are keyword-only)
    instructions = list(dis.get_instructions(vjp))
    used = set(name for name in names if name in code.co_cellvars)   # read by a nested function
    for position, instruction in enumerate(instructions):
        if not instruction.opname.startswith("LOAD_FAST") and instruction.opname != "LOAD_DEREF":
            continue
        loaded = instruction.argval if isinstance(instruction.argval, tuple) else (instruction.argval,)
        following = instructions[position + 1] if position + 1 < len(instructions) else None
        shape_only = (following is not None and following.opname == "LOAD_ATTR" and len(loaded) == 1
                      and following.argval in _SHAPE_ONLY)
        if not shape_only:
            used.update(name for name in loaded if name in names)
    read_output = bool(names) and names[0] in used
    if len(names) >= 2 and names[1] == "inputs":   # vjp_all(xp, g, y, inputs, needs, ...)
        return read_output, None if "inputs" in used else frozenset()
    return read_output, frozenset(i for i, name in enumerate(names[1:]) if name in used)


class IndexOutOfRange(ShapeError, IndexError):
    """An index outside a tensor's shape."""


def _forward_error(prim: Primitive, inputs: Sequence[Tensor], params: dict[str, Any],
                   err: Exception) -> ShapeError | DTypeError:
    shown = {k: v for k, v in params.items() if not isinstance(v, np.ndarray)}
    detail = f" with {shown}" if shown else ""
    kind = IndexOutOfRange if isinstance(err, IndexError) else (
        DTypeError if isinstance(err, TypeError) else ShapeError)
    return kind(f"{prim.name}: cannot apply to inputs of shape/dtype ({describe(inputs)}){detail}: {err}")


def _check_finite(array: np.ndarray, what: str, prim: Primitive, inputs: Sequence[Tensor],
                  trace: list[str] | None = None) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        where = "\nThe forward of this op was called at:\n" + "".join(trace) if trace else ""
        raise AnomalyError(f"{what} of '{prim.name}' (inputs {describe(inputs)}) produced NaN or Inf{where}")


# shared by every op without params, so a graph keeps no empty dict per op (never mutated)
_NO_PARAMS: dict[str, Any] = {}

# The tracer seam: while chainrule.compiler records a forward pass, every op goes through its recorder
# (which calls apply again with the seam cleared). None otherwise: one global read per op.
_tracer: Callable[[Primitive, tuple[Tensor, ...], dict[str, Any]], Tensor] | None = None


class _ForwardMode:
    """Forward mode's hooks into the engine: while a dual level is active in this thread
    (``_mode.dual_levels``), ``apply`` hands each op to ``propagate``, which runs it here and adds
    the output's tangents from the op's JVP; an in-place change asks ``carries`` whether a tangent
    is involved and hands its result to ``written``, which moves the tangents onto the changed
    tensor (see ``follows_in_place``). ``open`` counts the levels open in every thread, so that with
    none the hot path pays one class-attribute check. chainrule.forward_ad sets the functions."""

    open = 0
    propagate: Callable[[Primitive, tuple[Tensor, ...], dict[str, Any]], Tensor] | None = None
    carries: Callable[[tuple[Any, ...]], bool] = None  # type: ignore[assignment]  # set by forward_ad
    written: Callable[..., None] = None  # type: ignore[assignment]  # set by forward_ad


def carries_tangent(*tensors: Any) -> bool:
    """True when a dual level is active in this thread and one of ``tensors`` (non-Tensors are
    skipped) has a tangent at it."""
    return bool(_ForwardMode.open and _mode.dual_levels) and _ForwardMode.carries(tensors)


def viewed_base(tensor: Tensor) -> Tensor | None:
    """A live tensor whose values ``tensor`` views (x[0], x.T, x.reshape made under forward mode,
    which notes it), or None."""
    for ref in tensor._viewed or ():
        base = ref()
        if base is not None:
            return base
    return None


def follows_in_place(op: str, target: Tensor, *operands: Any) -> bool:
    """True when forward mode must follow an in-place change of ``target`` (``op``): a dual level is
    active in this thread and ``target`` or a Tensor among ``operands`` carries a tangent at it. The
    change is then made out of place -- the op's JVP gives the new value's tangent -- and written
    back with it (``_ForwardMode.written``). A view of another live tensor is refused: the write
    would change that tensor's values too, but not its tangent; so is a view forward mode did not
    see made (before the level was entered), whose base it cannot know."""
    if not carries_tangent(target, *operands):
        return False
    base = viewed_base(target)
    if base is not None:
        whose = f"of another one (shape {base.shape})"
    elif target._viewed is None and target._data.base is not None:
        whose = "of other values, made where forward mode could not see (before the dual level was entered)"
    else:
        return True
    raise GraphError(f"{op}: under forward mode this tensor (shape {target.shape}) is a view {whose}; an "
                     "in-place write would change those values too but not their tangent: write through the "
                     "tensor viewed (x[index] = v, x[index] += v) or clone the view first")


def apply(prim: Primitive, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
    """Run ``prim`` forward on the inputs' data; when a gradient is needed, the result records
    the op (see Tensor's docstring): it becomes the graph node."""
    if _ForwardMode.open and _mode.dual_levels:  # forward mode is on: the tangents too (forward_ad.py)
        return _ForwardMode.propagate(prim, inputs, params)  # type: ignore[misc]  # set while levels are open
    if _tracer is not None:
        return _tracer(prim, inputs, params)
    try:
        out = prim.forward(*[t._data for t in inputs], **params)
    except (ValueError, TypeError, IndexError) as err:
        raise _forward_error(prim, inputs, params, err) from None
    if _mode.anomaly:
        _check_finite(np.asarray(out), "the forward", prim, inputs)
    if _mode.grad_enabled:
        for t in inputs:
            if t._requires_grad:
                result = Tensor._wrap(out, True)
                result._prim, result._params = prim, params or _NO_PARAMS
                if len(inputs) == 1:
                    result._first = inputs[0]
                    result._first_version = result._version_sum = inputs[0]._version
                elif len(inputs) == 2:
                    result._first, result._second = inputs
                    result._first_version, result._second_version = inputs[0]._version, inputs[1]._version
                    result._version_sum = result._first_version + result._second_version
                else:
                    result._many = inputs
                    result._many_versions = tuple([t._version for t in inputs])
                    result._version_sum = sum(result._many_versions)
                if _mode.anomaly:
                    result._trace = traceback.format_stack(limit=12)[:-2]
                return result
    return Tensor._wrap(out)


# --- the reverse walk -------------------------------------------------------------------------
class _Namespaces:
    """The math namespaces VJPs run with: arrays (plain backward) or Tensors (create_graph).
    ``chainrule.ops`` registers both when it is imported."""

    arrays: Any = None
    tensors: Any = None


def register_namespaces(arrays: Any, tensors: Any) -> None:
    _Namespaces.arrays = arrays
    _Namespaces.tensors = tensors


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


def _versions_seen(tensor: Tensor, inputs: Sequence[Tensor]) -> list[Tensor]:
    """The nodes the op's inputs were when it ran: for one changed in place since, the node its
    version history kept (the walk's order must put that after this op, which sends it gradient,
    and need not put the input as it is now anywhere near: y.add_(y + 1) makes it a user of this
    op), or the input itself when it has no history."""
    found = []
    for t, seen in zip(inputs, tensor._input_versions()):
        earlier = (t._history or {}).get(seen) if t._version != seen else None
        found.append(t if earlier is None else earlier)
    return found


def _sources_after_in_place(tensor: Tensor, inputs: Sequence[Tensor], prim: Primitive) -> list[Tensor]:
    """An input of ``tensor``'s op was changed in place after the op ran. Its gradient goes to the
    input as it was then (the node its version history kept); if the op's backward reads that
    input's values, they are gone: the error PyTorch gives too."""
    sources = list(inputs)
    for i, (t, seen) in enumerate(zip(inputs, tensor._input_versions())):
        if t._version == seen:
            continue
        if prim.reads_input(i):
            raise GraphError(
                f"an input of '{prim.name}' (input {i}: {describe([t])}) needed by its backward was "
                f"modified by an in-place operation after the forward pass (its version is now "
                f"{t._version}, the op saw {seen}); use an out-of-place op (x = x + y) instead")
        earlier = (t._history or {}).get(seen)
        sources[i] = t if earlier is None else earlier
    return sources


def _check_recomputed(tensor: Tensor, output: Tensor, prim: Primitive) -> None:
    """A recorded backward (create_graph) recomputes an op's output from its inputs as the op saw
    them. When an in-place op has written over one of them since (``x.clone().exp_()`` overwrites
    exp's input; only a copy under forward mode keeps it), the recomputed output differs from the
    op's own, and a backward from it would be wrong: refuse (relu_, idempotent, recomputes the same)."""
    if not np.array_equal(output._data, tensor._data, equal_nan=output._data.dtype.kind in "fc"):
        raise GraphError(
            f"the recorded backward (create_graph) of '{prim.name}' (shape {tensor.shape}) recomputes its "
            "output from its inputs, and an in-place operation wrote over one of them after the forward "
            "pass (x.clone().exp_() overwrites exp's input); use the out-of-place op (y = y.exp()) or "
            "clone before the in-place one")


def _overwritten_error(tensor: Tensor) -> GraphError:
    return GraphError(f"the output of '{tensor._prim.name}' (shape {tensor.shape}) is needed by its "  # type: ignore[union-attr]
                      "backward but was modified by an in-place operation; use an out-of-place op "
                      "(y = y * 2 instead of y.mul_(2)) after this one")


def _move_record(source: Tensor, target: Tensor) -> None:
    """Copy ``source``'s op record (primitive, params, inputs and the versions they had) to ``target``."""
    target._prim, target._params = source._prim, source._params
    target._first, target._second, target._many = source._first, source._second, source._many
    target._version_sum = source._version_sum
    if source._many is not None:
        target._many_versions = source._many_versions
    elif source._first is not None:
        target._first_version = source._first_version
        if source._second is not None:
            target._second_version = source._second_version


def record_in_place(target: Tensor, result: Tensor) -> Tensor:
    """Make ``target`` (the same object) the output of ``result``'s op, as PyTorch's in-place ops
    do: ``result``'s record moves onto ``target`` and its values into ``target``'s buffer, while
    ``target``'s previous record moves to a new node. Users of ``target`` from before reach that
    node through ``target``'s version history, so their gradients go where they belong."""
    version = target._version
    inputs = result._inputs() or ()
    # the new op's backward reads target's old values (clamp_, mul_ by another tensor): keep a copy.
    # Under forward mode always: the backward is then recorded (hessian: forward over reverse), and a
    # recorded backward recomputes the outputs of the ops that used the old values from them
    forward = _ForwardMode.open and _mode.dual_levels
    keep_values = forward or any(t is target and result._prim.reads_input(i)  # type: ignore[union-attr]
                                  for i, t in enumerate(inputs))
    earlier = Tensor._wrap(target._data.copy() if keep_values else target._data, target._requires_grad)
    earlier._version = version
    _move_record(target, earlier)
    if target._extra is not None:   # hooks and retain_grad belong to the values they were set on
        earlier._hooks, earlier._retained = target._hooks, target._retained
        node = target._view() if target._view is not None else None
        if node is not None:        # a grad_fn taken before keeps showing the op it showed (PyTorch's)
            node._tensor, earlier._view = earlier, target._view
        target._hooks = target._retained = target._view = None
    if not keep_values:   # (a leaf's too: a recorded backward recomputing from it must know)
        earlier._overwritten = True
    if result._first is target:
        result._first = earlier
    if result._second is target:
        result._second = earlier
    if result._many is not None:
        result._many = tuple(earlier if t is target else t for t in result._many)
    _move_record(result, target)
    target._requires_grad = True
    target._data[...] = result._data
    history = dict(target._history or {})
    history[version] = earlier
    target._history = history
    target._version = version + 1
    if forward:   # the tangents follow the values (forward_ad.py)
        _ForwardMode.written(target, result, earlier)
    return target


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
