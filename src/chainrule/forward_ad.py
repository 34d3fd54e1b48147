"""Forward mode: tangents carried beside the values, pushed through every op by its JVP.

    from chainrule import forward_ad as fwAD          (PyTorch's torch.autograd.forward_ad names)
    with fwAD.dual_level():
        x = fwAD.make_dual(x, u)        # x, carrying the tangent u: a direction dx to move x in
        y = f(x)                        # each op computes its value and its tangent dy together
        y, dy = fwAD.unpack_dual(y)     # dy = J u, the derivative of y along u

Reverse mode (``backward``) runs the forward pass, then walks the graph from the output back: one
backward pass gives vᵀJ, the gradient of ONE output direction v with respect to every input.
Forward mode goes along with the forward pass, left to right, keeping no graph: one pass gives
J u, the derivative of EVERY output along ONE input direction u. For f from n inputs to m
outputs, the whole Jacobian costs n forward-mode passes or m reverse-mode ones: reverse mode
wins for a loss (m = 1: the lesson's case, which is why backpropagation is reverse mode),
forward mode when there are few inputs and many outputs.

How it runs: while a level is active, ``apply`` (primitive.py) hands each op to ``propagate``
here. The op runs as always (recording the reverse graph when asked); then, for each level at
which an input has a tangent, the op's JVP (``Primitive.jvp``, beside its VJPs in
``chainrule.ops``) gives the output's tangent. Tensors keep their tangents in their ``_extra``
field, one per level; leaving a level takes that level's tangents off every tensor it tagged.

In-place changes (``y.mul_(x)``, ``y[i] = v``, ``y.copy_(v)``, ``y.zero_()`` ...) are followed as
torch.func follows them: when ``y`` or an operand carries a tangent, the op runs out of place on a
clone of ``y`` (through ``propagate``), and ``written`` below makes the result's tangent ``y``'s own:

    dy after = JVP of the op at (y before, operands), applied to (dy before, d operands)

so ``y[i] = v`` gives ``y`` the tangent dy with dy[i] replaced by dv (zeros where v has none), and a
tensor with no tangent before (``buf = zeros(3); buf[1] = dual``) gets one. A write into a view
of another live tensor (``y[0].mul_(2)``) is refused: that tensor's tangent could not follow.

Levels nest, so transforms compose (jacfwd(jacfwd(f)), a jvp inside a grad, a grad inside a
jvp): the JVP of an op for level k runs with only the levels outside k active, so those levels
differentiate it (tangents of tangents) and level k never sees its own tangent rule. The JVP
runs on the arrays (fast) unless an outer level or the reverse graph has to see it; then it
runs on Tensors, through the ops again.
"""

from __future__ import annotations

import threading
import weakref
from collections import namedtuple
from typing import TYPE_CHECKING, Any

from .backend import np
from .errors import ArgumentError, DTypeError, GraphError, ShapeError
from .grad_mode import _mode
from .ops.unary import alias_p
from .primitive import LINEAR, _ForwardMode, _Namespaces, apply
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Literal, NamedTuple

    from .primitive import Primitive


__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual"]

if TYPE_CHECKING:  # the fields' types, for type checkers; at run time a plain namedtuple
    class UnpackedDualTensor(NamedTuple):
        """What unpack_dual returns: the primal values and the tangent (None if there is none)."""

        primal: Tensor
        tangent: Tensor | None
else:
    UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


_COUNTING = threading.Lock()   # guards the count of open levels (threads open and close their own)


class _Level:
    """One dual level: its depth (0 = outermost) and the tensors that got a tangent at it (held
    weakly, so that leaving the level can take the tangents off again)."""

    __slots__ = ("depth", "tagged", "prune_at")

    def __init__(self, depth: int) -> None:
        self.tagged: list[weakref.ref[Tensor]] = []
        self.depth, self.prune_at = depth, 4096

    def __repr__(self) -> str:
        return f"<dual level {self.depth}>"


# --- the levels -------------------------------------------------------------------------------
def enter_dual_level() -> int:
    """Start a new (innermost) level and return its number; prefer ``with dual_level():``."""
    levels = _mode.dual_levels
    level = _Level(len(levels))
    with _COUNTING:
        _ForwardMode.open += 1
    _mode.dual_levels = levels + (level,)
    return level.depth


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the innermost level: every tangent it gave a tensor is gone afterwards."""
    levels = _mode.dual_levels
    if not levels:
        raise GraphError("exit_dual_level: no dual level is active")
    if level is not None and level != len(levels) - 1:
        raise GraphError(f"exit_dual_level: level {level} is not the innermost one ({len(levels) - 1}); "
                         "levels are left in the reverse order of entering them")
    innermost = levels[-1]
    _mode.dual_levels = levels[:-1]
    with _COUNTING:
        _ForwardMode.open -= 1
    for ref in innermost.tagged:
        tensor = ref()
        if tensor is not None and tensor._tangents:
            tensor._tangents.pop(innermost, None)
    innermost.tagged.clear()


class dual_level:
    """``with dual_level():`` -- a level of forward mode for the block (it yields its number).
    Tangents made inside live until the block ends."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> Literal[False]:
        exit_dual_level()
        return False


def _active(op: str, level: int | None) -> _Level:
    levels = _mode.dual_levels
    if not levels:
        raise GraphError(f"{op}: no dual level is active; use it inside `with forward_ad.dual_level():`")
    if level is None:
        return levels[-1]
    if not 0 <= level < len(levels):
        raise GraphError(f"{op}: level {level} is not active (active levels: 0..{len(levels) - 1})")
    return levels[level]


# --- dual tensors -----------------------------------------------------------------------------
def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (same shape; cast to its dtype) at ``level``
    (default: the innermost). It keeps ``tensor``'s place in the reverse graph and its tangents at
    the other levels."""
    at = _active("make_dual", level)
    if not isinstance(tensor, Tensor):
        raise ArgumentError(f"make_dual: expects a Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype.kind != "f":
        raise DTypeError(f"make_dual: only floating-point tensors can carry a tangent; this one is "
                         f"{tensor.dtype} with shape {tensor.shape}")
    if not isinstance(tangent, Tensor):
        tangent = Tensor(np.asarray(tangent), dtype=tensor.dtype)
    if tangent.shape != tensor.shape:
        raise ShapeError(f"make_dual: the tangent's shape {tangent.shape} must be the tensor's "
                         f"{tensor.shape}")
    if tangent._data.dtype.kind != "f":
        raise DTypeError(f"make_dual: the tangent must be floating point, got {tangent.dtype}")
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    dual = apply(alias_p, (tensor,), {})
    dual._viewed = ()   # no view to refuse a write into (see _note_view): the dual stands for the tensor
    _attach(dual, at, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent): the values without the level's tangent (a view, still in the reverse
    graph) and the tangent at ``level`` (default: the innermost), or None if it has none."""
    at = _active("unpack_dual", level)
    tangent = tangent_of(tensor, at)
    levels = _mode.dual_levels
    _mode.dual_levels = tuple(other for other in levels if other is not at)
    try:
        primal = apply(alias_p, (tensor,), {})
    finally:
        _mode.dual_levels = levels
    return UnpackedDualTensor(primal, tangent)


def tangent_of(tensor: Tensor, level: _Level) -> Tensor | None:
    tangents = tensor._tangents
    return None if tangents is None else tangents.get(level)


def _attach(tensor: Tensor, level: _Level, tangent: Tensor) -> None:
    tangents = tensor._tangents
    if tangents is None:
        tensor._tangents = {level: tangent}
    else:
        tangents[level] = tangent
    tagged = level.tagged
    tagged.append(weakref.ref(tensor))
    if len(tagged) >= level.prune_at:   # a long run under one level: forget the tensors gone since
        tagged[:] = [ref for ref in tagged if ref() is not None]
        level.prune_at = max(4096, 2 * len(tagged))


# --- pushing tangents through one op ------------------------------------------------------------
def propagate(prim: Primitive, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
    """``apply`` while forward mode is on: the op's output, with a tangent at each level at which
    some input has one (outermost level first, so an inner level's JVP sees the outer tangents)."""
    levels = _mode.dual_levels
    _mode.dual_levels = ()
    try:
        out = apply(prim, inputs, params)
        if out._data.base is not None:   # perhaps a view of an input (x[0], x.T): see _note_view
            _note_view(out, inputs)
        if out._data.dtype.kind == "f" and not prim.gradient_free:
            for depth, level in enumerate(levels):
                tangents = [tangent_of(t, level) for t in inputs]
                if any(t is not None for t in tangents):
                    _mode.dual_levels = levels[:depth]
                    tangent = _output_tangent(prim, inputs, tangents, out, params, outer=depth > 0)
                    _mode.dual_levels = ()
                    if tangent is not None:
                        _attach(out, level, tangent)
    finally:
        _mode.dual_levels = levels
    return out


def _output_tangent(prim: Primitive, inputs: tuple[Tensor, ...], tangents: list[Tensor | None], out: Tensor,
                    params: dict[str, Any], outer: bool) -> Tensor | None:
    """d(out) from the inputs' tangents by the primitive's JVP: on arrays, or on Tensors (through
    the ops, so that it is differentiated in turn) when an outer level is active or the reverse
    graph must record it."""
    recorded = outer or (_mode.grad_enabled and any(
        t._requires_grad for t in (*inputs, *[t for t in tangents if t is not None])))
    if recorded:
        tangent = _by_rule(prim, _Namespaces.tensors, tangents, out, list(inputs), params, True)
    else:
        tangent = _by_rule(prim, _Namespaces.arrays, [None if t is None else t._data for t in tangents],
                           out._data, [t._data for t in inputs], params, False)
    return None if tangent is None else _fitted(tangent, out, recorded)


def tangent_of_op(prim: Primitive, values: list[np.ndarray], tangents: list[np.ndarray | None], output: Any,
                  params: dict[str, Any]) -> np.ndarray | None:
    """One op's output tangent computed on plain arrays by its JVP, from the inputs' values and
    tangents (None: no tangent) and its output; None when no input has a tangent
    (``explain(mode="forward")`` writes these numbers)."""
    if all(t is None for t in tangents):
        return None
    tangent = _by_rule(prim, _Namespaces.arrays, tangents, output, values, params, False)
    return None if tangent is None else _fitted(tangent, Tensor._wrap(np.asarray(output)), False)._data


def _by_rule(prim: Primitive, xp: Any, tangents: Sequence[Any], output: Any, values: Sequence[Any],
             params: dict[str, Any], recorded: bool) -> Any:
    rule = prim.jvp
    if rule is None:
        raise GraphError(f"forward mode: '{prim.name}' has no JVP in the derivative table, so its "
                         "tangent cannot be computed")
    if rule is LINEAR:   # d forward(x_0, x_1, ...) = forward(dx_0, dx_1, ...), zeros where no tangent
        filled = [t if t is not None else _zeros_like(v, recorded) for t, v in zip(tangents, values)]
        return apply(prim, tuple(filled), params) if recorded else prim.forward(*filled, **params)
    if callable(rule):
        return rule(xp, tangents, output, *values, **params)
    tangent = None   # one share per input: d(out) = sum_i J_i dx_i
    for share_of, dx in zip(rule, tangents):
        if dx is not None and share_of is not None:
            share = share_of(xp, dx, output, *values, **params)
            tangent = share if tangent is None else tangent + share
    return tangent


def _zeros_like(value: Any, recorded: bool) -> Any:
    zeros = np.zeros(value.shape, value._data.dtype if recorded else value.dtype)
    return Tensor._wrap(zeros) if recorded else zeros


def _fitted(tangent: Any, out: Tensor, recorded: bool) -> Tensor:
    """The tangent as a Tensor of the output's shape (shares broadcast up) and dtype."""
    if recorded:
        if not isinstance(tangent, Tensor):
            tangent = Tensor._wrap(np.asarray(tangent))
        if tangent.shape != out.shape:
            tangent = _Namespaces.tensors.broadcast_to(tangent, out.shape)
        return tangent if tangent.dtype == out.dtype else tangent.to(out.dtype)
    tangent = np.asarray(tangent)
    if tangent.shape != out.shape:
        tangent = np.array(np.broadcast_to(tangent, out.shape))
    if tangent.dtype != out.dtype:
        tangent = tangent.astype(out.dtype)
    return Tensor._wrap(tangent)


# --- in-place changes (see the module's docstring; chainrule.ops.methods runs them) ------------
def carries(tensors: tuple[Any, ...]) -> bool:
    """True when a Tensor among ``tensors`` has a tangent at a level active in this thread."""
    levels = _mode.dual_levels
    for t in tensors:
        tangents = t._tangents if isinstance(t, Tensor) else None
        if tangents and any(level in tangents for level in levels):
            return True
    return False


def written(target: Tensor, result: Tensor, earlier: Tensor | None = None) -> None:
    """``target``'s values were just replaced by ``result``'s (an in-place change): at every active
    level its tangent becomes ``result``'s, or none where ``result`` has none (an op without a
    derivative). ``earlier`` -- the node that keeps ``target``'s old values for the reverse graph
    (``in_place.record_in_place``) -- takes the old tangents, so that a backward pass that reads the
    old values differentiates them (forward over reverse: hessian)."""
    for level in _mode.dual_levels:
        old, new = tangent_of(target, level), tangent_of(result, level)
        if old is not None and earlier is not None:
            _attach(earlier, level, old)
        if new is not None:
            if old is None:
                _attach(target, level, new)
            else:
                target._tangents[level] = new
        elif old is not None:
            del target._tangents[level]


def _note_view(out: Tensor, inputs: tuple) -> None:
    """Remember whether ``out``, whose array is a view, shares an input's values (made by x[0],
    x.reshape, x.T ...): a write into it would change that input too, whose tangent forward mode
    cannot update, so ``in_place.follows_in_place`` refuses such a write while the input lives.
    () when it shares none (a view of the op's own scratch array)."""
    for t in inputs:
        if np.may_share_memory(out._data, t._data):   # the input, and what it views in turn
            out._viewed = (weakref.ref(t),) + (t._viewed or ())
            return
    out._viewed = ()


_ForwardMode.propagate = propagate
_ForwardMode.carries = carries
_ForwardMode.written = written
