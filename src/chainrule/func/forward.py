"""Forward-mode transforms: tangents pushed along with the values (``chainrule.forward_ad``).

    jvp(f, (x,), (u,))    (f(x), J u): the derivative of every output along ONE input direction
                          u, in one forward pass, keeping no graph
    jacfwd(f)(x)          the whole Jacobian, column by column: one forward pass per input element
    hessian(f)(x)         jacfwd(jacrev(f)): forward mode over reverse mode (each forward pass
                          pushes a tangent through a whole backward pass)

Which to use for a Jacobian of f from n numbers to m numbers: jacfwd costs n passes, jacrev m;
a loss (m = 1) wants reverse mode, a function with few inputs and many outputs forward mode.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..errors import ArgumentError, ShapeError
from ..forward_ad import dual_level, make_dual, unpack_dual
from ..grad_mode import _mode
from ..tensor import Tensor
from . import trees
from .reverse import (
    assemble,
    check_argnums,
    check_float,
    collect_handles,
    jacrev,
    one_hot,
    reaches_other_leaves,
    split_aux,
    with_args,
    zeros_like,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def jvp(func: Callable[..., Any], primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), J u[, aux]) with u = ``tangents`` (one per primal, same shapes), in one
    forward pass (torch.func.jvp). Outputs that do not depend on the primals get zero tangents."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise ArgumentError("jvp(f, primals, tangents): primals and tangents must be tuples (of Tensors), "
                            f"got {type(primals).__name__} and {type(tangents).__name__}")
    leaves, spec = trees.flatten(tuple(primals))
    tangent_leaves, tangent_spec = trees.flatten(tuple(tangents))
    if not trees.same_structure(spec, tangent_spec):
        raise ShapeError("jvp: tangents must have the structure of primals (a Tensor for each Tensor)")
    check_float("jvp", leaves, "primal")
    for i, (p, t) in enumerate(zip(leaves, tangent_leaves)):
        if p.shape != t.shape:
            raise ShapeError(f"jvp: tangent {i} has shape {t.shape}, its primal {p.shape}")
    outer_grad = _mode.grad_enabled
    with collect_handles() as inner, dual_level():
        duals = [make_dual(p, t) for p, t in zip(leaves, tangent_leaves)]
        output, aux = split_aux("jvp", func(*trees.unflatten(duals, spec)), has_aux)
        outputs, out_spec = trees.flatten(output)
        unpacked = [unpack_dual(o) for o in outputs]
    primals_out = trees.unflatten([u.primal for u in unpacked], out_spec)
    tangents_out = trees.unflatten([zeros_like(u.primal) if u.tangent is None else u.tangent
                                    for u in unpacked], out_spec)
    primals_out, tangents_out = _lifted((primals_out, tangents_out), outer_grad, leaves + tangent_leaves,
                                        inner)
    return (primals_out, tangents_out, aux) if has_aux else (primals_out, tangents_out)


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian of ``func`` by forward mode: one forward pass per input element, each giving a
    column (torch.func.jacfwd). Blocks have shape output shape + input shape, in tuples as for
    jacrev. ``randomness`` is accepted for torch's signature (each pass draws its own numbers)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        positions = check_argnums("jacfwd", argnums, len(args))
        partial = with_args(func, args, kwargs, positions)
        leaves, spec = trees.flatten(tuple(args[p] for p in positions))
        check_float("jacfwd", leaves, "input")
        columns: dict[Any, list[Any]] = {}
        outputs, out_spec, aux = None, None, None
        outer_grad = _mode.grad_enabled
        with collect_handles() as inner:
            for j, x in enumerate(leaves):
                for element in range(x._data.size):
                    with dual_level():
                        inputs = list(leaves)
                        inputs[j] = make_dual(x, one_hot(x, element))
                        output, aux = split_aux("jacfwd", partial(*trees.unflatten(inputs, spec)), has_aux)
                        outputs, out_spec = trees.flatten(output)
                        unpacked = [unpack_dual(o) for o in outputs]
                    for k, u in enumerate(unpacked):
                        tangent = zeros_like(u.primal) if u.tangent is None else u.tangent
                        columns.setdefault((k, j), []).append(tangent)
        if outputs is None:   # every input is empty: one plain call for the outputs' shapes
            output, aux = split_aux("jacfwd", partial(*trees.unflatten(leaves, spec)), has_aux)
            outputs, out_spec = trees.flatten(output)
        _check_outputs(outputs)
        per_output = []
        for k, out in enumerate(outputs):
            blocks = [assemble(columns.get((k, j), []), out.shape, x.shape, -1, out._data.dtype)
                      for j, x in enumerate(leaves)]
            per_argument = trees.unflatten(blocks, spec)
            per_output.append(per_argument[0] if isinstance(argnums, int) else per_argument)
        jacobian = _lifted(trees.unflatten(per_output, out_spec), outer_grad, leaves, inner)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def _lifted(tree: Any, outer_grad: bool, arguments: list[Tensor], inner: list[Any]) -> Any:
    """``tree`` as the caller gets it. A reverse transform inside a forward one (jacfwd(jacrev(f)),
    the hessian; jvp of a grad) records its backward pass so that the tangents can flow through it,
    which leaves the results with a grad_fn. As in torch.func, that graph is kept only when
    something outside the call differentiates the results -- an outer dual level, or grad mode on
    and an argument, or a tensor ``func`` closes over, requiring grad (a leaf other than the
    ``inner`` handles); otherwise the results are cut from it."""
    results, spec = trees.flatten(tree)
    if _mode.dual_levels or not any(t._requires_grad for t in results):
        return tree
    if outer_grad and (any(t._requires_grad for t in arguments) or reaches_other_leaves(results, inner)):
        return tree
    return trees.unflatten([t.detach() if t._requires_grad else t for t in results], spec)


def _check_outputs(outputs: Any) -> None:
    if not outputs or not all(isinstance(o, Tensor) for o in outputs):
        raise ArgumentError("jacfwd: f must return a Tensor (or a tuple/list/dict of Tensors)")


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The matrix of second derivatives of ``func`` (one number) with respect to ``argnums``:
    jacfwd(jacrev(func)) -- forward mode over reverse mode, as torch.func.hessian. For an input of
    shape T the result has shape T + T. It has a grad_fn only when something outside the call
    requires grad (an argument, or a tensor ``func`` closes over), as torch.func's."""
    return jacfwd(jacrev(func, argnums), argnums)
