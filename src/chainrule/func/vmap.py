"""vmap: a function of one sample applied to a whole batch (torch.func.vmap's signature).

    vmap(f)(xs)                         stack([f(xs[0]), f(xs[1]), ...])
    vmap(f, in_dims=(0, None))(xs, w)   w shared by every sample
    vmap(grad(loss))(xs)                per-sample gradients

This first version is a LOOP, said plainly: the batch dim is taken apart with ``select``, f runs
once per sample, and the results are stacked along ``out_dims``. So it is exactly as fast as the
loop you would write (torch.func and JAX instead rewrite f to run on the whole batch at once),
and what f does per sample (Python control flow on values, ``.item()``, prints) simply works.
Because ``select`` and ``stack`` are ops like any other, vmap composes with the other
transforms and with backward in both directions.

in_dims / out_dims: an int (that dim of every Tensor), None (not batched / not mapped), or a tuple
with one such entry per positional argument (per output), nested to match tuples, lists and dicts.
randomness: 'different' (and the default 'error', not checked here: each sample simply draws its
own numbers) or 'same' (every sample sees the random numbers of the first). chunk_size: accepted
and ignored.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..errors import ArgumentError, ShapeError
from ..ops.arguments import dim_of
from ..ops.indexing import stack
from ..ops.rearrange import select
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from . import trees

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def vmap(func: Callable[..., Any], in_dims: int | None | tuple[Any, ...] = 0,
         out_dims: int | tuple[int, ...] = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable[..., Any]:
    """``func`` mapped over a batch dim of its inputs, results stacked along ``out_dims`` (a loop
    over the samples; see the module docstring)."""
    if randomness not in ("error", "different", "same"):
        raise ArgumentError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        leaves, spec = trees.flatten(args)
        dims = _per_leaf("in_dims", in_dims, args, len(leaves))
        size = _batch_size(leaves, dims)
        state = get_rng_state() if randomness == "same" else None
        results: list[Any] = []
        out_spec = None
        for index in range(size):
            if state is not None:
                set_rng_state(state)
            sample = [x if d is None else select(x, d, index) for x, d in zip(leaves, dims)]
            result = func(*trees.unflatten(sample, spec), **kwargs)
            outputs, out_spec = trees.flatten(result)
            if not outputs or trees.holds_constants(out_spec):
                raise ArgumentError("vmap: f must return Tensors (a Tensor or a tuple/list/dict of them), "
                                    f"got {type(result).__name__}")
            if results and len(outputs) != len(results[0]):
                raise ShapeError(f"vmap: f returned a different structure for sample {index}")
            results.append(outputs)
        if not results:
            raise ShapeError("vmap: the batch is empty (size 0): there is no sample to run f on")
        out = _per_leaf("out_dims", out_dims, _as_args(trees.unflatten(results[0], out_spec)),
                        len(results[0]))
        stacked = []
        for k, d in enumerate(out):
            samples = [r[k] for r in results]
            if d is None:
                stacked.append(samples[0])
                continue
            if len({s.shape for s in samples}) != 1:
                raise ShapeError(f"vmap: output {k} has a different shape for different samples "
                                 f"({sorted({s.shape for s in samples})}): they cannot be stacked")
            stacked.append(stack(samples, dim_of("vmap out_dims", samples[0], d, samples[0].ndim + 1)))
        return trees.unflatten(stacked, out_spec)

    return wrapped


def _as_args(tree: Any) -> tuple:
    """The outputs as the tuple that out_dims' entries match (one output: a 1-tuple)."""
    return tree if isinstance(tree, tuple) else (tree,)


def _per_leaf(name: str, dims: Any, args: tuple, count: int) -> list:
    """``dims`` (int, None or nested tuples) spread to one entry per Tensor of ``args``."""
    if dims is None or isinstance(dims, int):
        return [_checked(name, dims)] * count
    if not isinstance(dims, (tuple, list)) or len(dims) != len(args):
        raise ArgumentError(f"{name}: expected an int, None, or a tuple of {len(args)} entries (one per "
                            f"argument), got {dims!r}")
    return [d for entry, arg in zip(dims, args) for d in _spread(name, entry, arg)]


def _spread(name: str, entry: Any, arg: Any) -> list:
    """One dim per Tensor of ``arg``, from its in_dims/out_dims entry (nested like ``arg``)."""
    if entry is None or isinstance(entry, int):
        return [_checked(name, entry)] * len(trees.flatten(arg)[0])
    if isinstance(arg, dict) and isinstance(entry, dict) and set(arg) == set(entry):
        return [d for key in arg for d in _spread(name, entry[key], arg[key])]
    if isinstance(arg, (tuple, list)) and isinstance(entry, (tuple, list)) and len(arg) == len(entry):
        return [d for a, e in zip(arg, entry) for d in _spread(name, e, a)]
    raise ArgumentError(f"{name}: the entry {entry!r} does not match the structure of its argument")


def _checked(name: str, dim: Any) -> Any:
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
        raise ArgumentError(f"{name}: each entry must be an int or None, got {dim!r}")
    return dim


def _batch_size(leaves: list, dims: list) -> int:
    sizes = {}
    for i, (x, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if not isinstance(x, Tensor) or x.ndim == 0:
            raise ShapeError(f"vmap: input {i} is mapped over dim {d} but has no dims (a 0-d tensor); "
                             "use in_dims None for it")
        sizes[i] = x.shape[dim_of("vmap in_dims", x, d)]
    if not sizes:
        raise ArgumentError("vmap: at least one input must be mapped (in_dims is None everywhere)")
    if len(set(sizes.values())) != 1:
        raise ShapeError(f"vmap: the mapped dims have different sizes {sorted(set(sizes.values()))} "
                         f"(inputs {list(sizes)}): they must all be the batch size")
    return next(iter(sizes.values()))
