"""Primitives and their recording: the forward half of the engine.

A Primitive is one row of the derivative table (ops/): the forward function on arrays and, beside
it, the op's local derivatives in the two directions. For an op y = f(x_1, ..., x_n):

        VJP_i(g) = g . dy/dx_i           g = dL/dy:  dL/dx_i, one input's share    (reverse mode)
        JVP(t_1, ..., t_n) = sum_i dy/dx_i . t_i     t_i = dx_i: dy                (forward mode)

(``.`` contracts over y's entries; a VJP never builds the Jacobian dy/dx_i, it computes the product.)

``apply(prim, inputs, params)`` computes a primitive on the inputs' arrays and, when any input
requires grad (and grad mode is on), the result records the primitive, its params, its inputs and
the versions they had: each op-made tensor is a node of the graph (``t.grad_fn`` shows it). The
reverse walk (engine.py) reads those records; in_place.py moves them when a tensor is changed in
place.

Every op goes through ``apply``, so it is also where two other parts hook in, each costing one
global or class-attribute read per op while unused: forward mode (``_ForwardMode``, set by
forward_ad.py) and the compiler's recorder (``_tracer``, set by compiler/trace.py). ``_Namespaces``
holds the math namespaces the VJPs and JVPs run with (chainrule.ops registers them).
"""

from __future__ import annotations

import dis
import inspect
import traceback
from typing import TYPE_CHECKING, Any

from .backend import np
from .errors import AnomalyError, DTypeError, ShapeError, describe
from .grad_mode import _mode
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


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
    tensor (see ``in_place.follows_in_place``). ``open`` counts the levels open in every thread, so
    that with none the hot path pays one class-attribute check. chainrule.forward_ad sets the
    functions."""

    open = 0
    propagate: Callable[[Primitive, tuple[Tensor, ...], dict[str, Any]], Tensor] | None = None
    carries: Callable[[tuple[Any, ...]], bool] = None  # type: ignore[assignment]  # set by forward_ad
    written: Callable[..., None] = None  # type: ignore[assignment]  # set by forward_ad


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


class _Namespaces:
    """The math namespaces VJPs run with: arrays (plain backward) or Tensors (create_graph).
    ``chainrule.ops`` registers both when it is imported."""

    arrays: Any = None
    tensors: Any = None


def register_namespaces(arrays: Any, tensors: Any) -> None:
    _Namespaces.arrays = arrays
    _Namespaces.tensors = tensors

