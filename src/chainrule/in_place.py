"""Changes in place: the version history that keeps the chain rule right, and forward mode's
part in it.

An in-place op (``y.mul_(2)``, ``x[0] = v``, ``p.add_(g)``) makes the tensor object the output of a
new op, as PyTorch's do. Writing the tensor's successive values as versions,

        y_1 = f(y_0, ...)     so     dL/dy_0 = VJP_f(dL/dy_1)   (the chain rule through the write)

``record_in_place`` moves the tensor's previous record to a new node ``y_0`` (kept in the tensor's
``_history`` under the version it had) and makes the tensor ``y_1``. Every op records the versions
of its inputs (primitive.apply); the walk (engine.py) sees an input whose version has changed since
and sends that input's gradient to the node its history kept (``_versions_seen`` orders the walk
by them, ``_sources_after_in_place`` routes the gradients), or refuses when the op's backward reads
the values the write destroyed, as PyTorch does. A recorded backward (create_graph) recomputes an
op's output from its inputs as the op saw them; ``_check_recomputed`` refuses when a write has
changed them.

Forward mode follows a write too: under a dual level the op is made out of place and its JVP gives
the new value's tangent, dy_1 = JVP_f(dy_0, ...) (``follows_in_place``; forward_ad.py does the
work through ``_ForwardMode``). A write into a view of another live tensor is refused there: it
would change that tensor's values but not its tangent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import np
from .errors import GraphError, describe
from .grad_mode import _mode
from .primitive import _ForwardMode
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .primitive import Primitive


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

