"""Reverse-mode transforms: the backward pass as a function.

    vjp(f, x)       (f(x), pullback), pullback(v) = vᵀJ: one backward pass per call
    grad(f)(x)      df/dx for a scalar f: the pullback of 1 (the lesson's dL/dw)
    jacrev(f)(x)    the whole Jacobian J, row by row: one backward pass per output element

How: the arguments are replaced by fresh handles (views that require grad), f runs on them and
records its graph, and ``chainrule.grad`` walks it back from the output. When something outside
will differentiate the result again -- an outer transform (grad of grad; jacfwd of jacrev, which
is the hessian), an active dual level (forward mode), or an argument or a closed-over tensor that
requires grad -- the backward pass is itself recorded (create_graph=True), so the transforms
compose as torch.func's do. The handles are new tensors: a function that closes over an outer
argument sees that argument, not the inner one (no "perturbation confusion").
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import TYPE_CHECKING

from .. import autograd
from ..backend import np
from ..engine import _topological_order
from ..errors import ArgumentError, DTypeError, ShapeError
from ..grad_mode import _mode, enable_grad, set_grad_enabled
from ..ops.indexing import stack
from ..ops.unary import alias_p
from ..primitive import apply
from ..tensor import Tensor
from . import trees

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any

    from .._typing import DTypeLike


# --- shared by the transforms ---------------------------------------------------------------------
def check_argnums(op: str, argnums: int | tuple[int, ...], count: int) -> tuple:
    """``argnums`` (an int or a tuple of ints, negative counting from the end) as positions."""
    numbers = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(numbers, tuple) or not numbers or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise ArgumentError(f"{op}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    positions = []
    for n in numbers:
        if not -count <= n < count:
            raise ArgumentError(f"{op}: argnums {n} is out of range for {count} positional argument(s)")
        positions.append(n % count)
    if len(set(positions)) != len(positions):
        raise ArgumentError(f"{op}: argnums {argnums!r} names an argument twice")
    return tuple(positions)


def with_args(func: Callable[..., Any], args: tuple, kwargs: dict, positions: tuple) -> Callable[..., Any]:
    """``func`` as a function of the arguments at ``positions`` only (the others held fixed)."""
    def partial(*chosen: Any) -> Any:
        full = list(args)
        for position, value in zip(positions, chosen):
            full[position] = value
        return func(*full, **kwargs)
    return partial


def split_aux(op: str, result: Any, has_aux: bool) -> tuple[Any, Any]:
    """(output, aux) of a function called with has_aux=True; (result, None) otherwise."""
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ArgumentError(f"{op}(f, has_aux=True): f must return a pair (output, aux), got "
                            f"{type(result).__name__}")
    return result[0], result[1]


def check_float(op: str, leaves: Sequence[Any], what: str) -> None:
    for i, t in enumerate(leaves):
        if t._data.dtype.kind != "f":
            raise DTypeError(f"{op}: only floating-point tensors can be differentiated; {what} {i} is "
                             f"{t.dtype} with shape {t.shape}")


def one_hot(like: Tensor, index: int) -> Tensor:
    """A tensor of ``like``'s shape and dtype: 1 at flat position ``index``, 0 elsewhere."""
    basis = np.zeros(like._data.size, like._data.dtype)
    basis[index] = 1
    return Tensor._wrap(basis.reshape(like.shape))


def zeros_like(t: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros(t.shape, t._data.dtype))


def assemble(columns_or_rows: list, out_shape: tuple, in_shape: tuple, dim: int, dtype: DTypeLike) -> Tensor:
    """One block of a Jacobian, out_shape + in_shape, from its rows (dim 0) or columns (dim -1)."""
    if not columns_or_rows:
        return Tensor._wrap(np.zeros(tuple(out_shape) + tuple(in_shape), dtype))
    return stack(columns_or_rows, dim).reshape(tuple(out_shape) + tuple(in_shape))


# --- the forward pass, kept for the backward ones ---------------------------------------------------
class Traced:
    """f run on handles of its arguments: the outputs (flat), the handles, and how to pull a
    cotangent back to them (recording that backward pass when something outside needs it)."""

    def __init__(self, op: str, func: Callable[..., Any], primals: tuple, has_aux: bool) -> None:
        outer_grad = _mode.grad_enabled
        self.leaves, self.spec = trees.flatten(primals)
        check_float(op, self.leaves, "input")
        self.handles = [_handle(t, outer_grad) for t in self.leaves]
        with enable_grad():
            result = func(*trees.unflatten(self.handles, self.spec))
        output, self.aux = split_aux(op, result, has_aux)
        self.outputs, self.out_spec = trees.flatten(output)
        if not self.outputs:
            raise ArgumentError(f"{op}: f must return a Tensor (or a tuple/list/dict of Tensors), got "
                                f"{type(output).__name__}")
        self.record = bool(_mode.dual_levels) or (outer_grad and (
            any(t._requires_grad for t in self.leaves) or reaches_other_leaves(self.outputs, self.handles)))

    def pull(self, cotangents: list) -> list:
        """vᵀJ for the cotangents v (one per output; None for 0), one gradient per input leaf."""
        pairs = [(o, c) for o, c in zip(self.outputs, cotangents)
                 if c is not None and o._requires_grad and o._data.dtype.kind == "f"]
        if not pairs:
            return [zeros_like(h) for h in self.handles]
        grads = autograd.grad([o for o, _ in pairs], self.handles, grad_outputs=[c for _, c in pairs],
                              retain_graph=True, create_graph=self.record, allow_unused=True)
        return [zeros_like(h) if g is None else g for g, h in zip(grads, self.handles)]

    def lifted(self, tree: Any) -> Any:
        """What the caller gets back: the values themselves when the graph is kept for something
        outside, else the same values cut from the inner graph."""
        if self.record:
            return tree
        leaves, spec = trees.flatten(tree)
        return trees.unflatten([t.detach() for t in leaves], spec)


_collectors = threading.local()   # .lists: the open collect_handles() blocks of this thread


def _handle(t: Tensor, outer_grad: bool) -> Tensor:
    """A new tensor for ``t`` that requires grad: a view in t's place in the graph (so outer
    transforms see through it) and with t's forward-mode tangents."""
    with set_grad_enabled(outer_grad):
        view = apply(alias_p, (t,), {})
    if not view._requires_grad:
        view.requires_grad_()
    for found in getattr(_collectors, "lists", ()):
        found.append(view)
    return view


@contextlib.contextmanager
def collect_handles() -> Iterator[list[Tensor]]:
    """A list of every handle the reverse transforms make inside the block: the forward-mode
    transforms use it to tell the leaves their inner transforms made from tensors outside the call."""
    lists = _collectors.__dict__.setdefault("lists", [])
    found: list = []
    lists.append(found)
    try:
        yield found
    finally:
        del lists[next(i for i, each in enumerate(lists) if each is found)]   # by identity: [] == []


def reaches_other_leaves(outputs: list, handles: list) -> bool:
    """Whether the outputs depend on a tensor requiring grad other than the handles (a parameter
    the function closes over), so that the gradient must stay differentiable for it."""
    mine = {id(h) for h in handles}
    roots = [o for o in outputs if o._prim is not None]
    if any(o._prim is None and o._requires_grad and id(o) not in mine for o in outputs):
        return True
    for node in _topological_order(roots) if roots else ():
        for t in node._inputs():  # type: ignore[union-attr]  # not freed: the graph is kept
            if t._prim is None and t._requires_grad and id(t) not in mine:
                return True
    return False


# --- the transforms -------------------------------------------------------------------------------
def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), vjp_fn[, aux]): ``vjp_fn(v)`` is vᵀJ, the cotangent v (shaped like the
    output) pulled back to every primal -- a tuple with one entry per primal (torch.func.vjp)."""
    traced = Traced("vjp", func, primals, has_aux)

    def vjp_fn(cotangents: Any) -> Any:
        leaves, spec = trees.flatten(cotangents)
        if not trees.same_structure(spec, traced.out_spec):
            raise ShapeError("vjp_fn: the cotangents must have the structure of the output (a Tensor "
                             "per output Tensor)")
        for i, (v, o) in enumerate(zip(leaves, traced.outputs)):
            if v.shape != o.shape:
                raise ShapeError(f"vjp_fn: cotangent {i} has shape {v.shape}, its output {o.shape}")
        cast = [v if v.dtype == o.dtype else v.to(o.dtype) for v, o in zip(leaves, traced.outputs)]
        return trees.unflatten(traced.pull(cast), traced.spec)

    output = traced.lifted(trees.unflatten(traced.outputs, traced.out_spec))
    return (output, vjp_fn, traced.lifted(traced.aux)) if has_aux else (output, vjp_fn)


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (gradient, value) of ``func``, whose output must be one number; with
    has_aux, ``func`` returns (output, aux) and the result is (gradient, (value, aux))."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        positions = check_argnums("grad", argnums, len(args))
        traced = Traced("grad", with_args(func, args, kwargs, positions), tuple(args[p] for p in positions),
                        has_aux)
        output = traced.outputs[0]
        if traced.out_spec != trees.LEAF or output._data.size != 1:
            raise ShapeError(f"grad(f)(*args): f must return one number (a Tensor with one element), got "
                             f"shape {output.shape if traced.out_spec == trees.LEAF else 'a structure'}; "
                             "for other outputs use vjp or jacrev")
        grads = trees.unflatten(traced.pull([Tensor._wrap(np.ones(output.shape, output._data.dtype))]),
                                traced.spec)
        grads = grads[0] if isinstance(argnums, int) else grads
        value = traced.lifted(output)
        return (grads, (value, traced.lifted(traced.aux))) if has_aux else (grads, value)

    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[...,
         Any]:
    """The gradient of ``func`` (a function returning one number) with respect to the argument(s)
    ``argnums``, as a function of the same arguments (torch.func.grad). With has_aux, ``func``
    returns (output, aux) and the result is (gradient, aux)."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable[..., Any]:
    """The Jacobian of ``func`` by reverse mode: one backward pass per output element, each giving
    a row (torch.func.jacrev). For an output of shape S and an input of shape T the block has shape
    S + T; tuples of outputs or argnums give tuples of blocks. ``chunk_size`` is accepted and
    ignored (the rows are computed one at a time)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        positions = check_argnums("jacrev", argnums, len(args))
        traced = Traced("jacrev", with_args(func, args, kwargs, positions),
                        tuple(args[p] for p in positions), has_aux)
        per_output = []
        for k, out in enumerate(traced.outputs):
            rows = []
            for element in range(out._data.size):
                cotangents: list[Tensor | None] = [None] * len(traced.outputs)
                cotangents[k] = one_hot(out, element)
                rows.append(traced.pull(cotangents))
            blocks = [assemble([row[j] for row in rows], out.shape, h.shape, 0, h._data.dtype)
                      for j, h in enumerate(traced.handles)]
            per_argument = trees.unflatten(blocks, traced.spec)
            per_output.append(per_argument[0] if isinstance(argnums, int) else per_argument)
        jacobian = trees.unflatten(per_output, traced.out_spec)
        return (jacobian, traced.lifted(traced.aux)) if has_aux else jacobian

    return wrapper
