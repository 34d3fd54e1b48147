"""Replay against eager: ``mode="check"`` on every call, and once for every new plan.

A checked call runs the function eagerly first, puts back what that changed (the random stream,
the buffers of the modules it called: BatchNorm's running statistics), replays the plan, and
compares the results and the state each left. The eager result's graph stays with the replayed
call's frame; when the backward reaches the block it also differentiates the eager graph and
compares every gradient.

Equal means: same shape and dtype, and values equal to float rounding (a replay calls the same
NumPy functions on the same arrays, so in practice they are bitwise equal; the tolerance leaves
room for BLAS kernels that round differently on another buffer).
"""

from __future__ import annotations

from .. import autograd
from ..backend import default_generator, np
from ..tensor import Tensor
from .watch import data_of


class CompileCheckError(AssertionError):
    """mode="check": the replayed plan and eager execution disagree."""


_TOLERANCE = {np.dtype(np.float16): (1e-2, 1e-3), np.dtype(np.float32): (1e-5, 1e-6),
              np.dtype(np.float64): (1e-10, 1e-12)}


def difference(name: str, replayed, eager) -> str | None:
    """Why two results differ, or None when they agree."""
    if isinstance(eager, Tensor) or isinstance(replayed, Tensor):
        if not (isinstance(eager, Tensor) and isinstance(replayed, Tensor)):
            return f"{name}: a tensor on one side only"
        return difference_of_arrays(name, data_of(replayed), data_of(eager), replayed._requires_grad,
                                    eager._requires_grad)
    if isinstance(eager, np.ndarray):
        return difference_of_arrays(name, replayed, eager)
    if type(replayed) is not type(eager) or replayed != eager:
        return f"{name}: {replayed!r} replayed, {eager!r} eager"
    return None


def difference_of_arrays(name, replayed, eager, replayed_grad=None, eager_grad=None) -> str | None:
    replayed, eager = np.asarray(replayed), np.asarray(eager)
    if replayed.shape != eager.shape or replayed.dtype != eager.dtype:
        return (f"{name}: shape/dtype {replayed.shape} {replayed.dtype} replayed, "
                f"{eager.shape} {eager.dtype} eager")
    if replayed_grad != eager_grad:
        return f"{name}: requires_grad {replayed_grad} replayed, {eager_grad} eager"
    if replayed.dtype.kind == "f":
        rtol, atol = _TOLERANCE.get(replayed.dtype, (1e-5, 1e-6))
        if not np.allclose(replayed, eager, rtol=rtol, atol=atol, equal_nan=True):
            gap = np.nanmax(np.abs(replayed.astype(np.float64) - eager.astype(np.float64)))
            return f"{name}: values differ (largest difference {gap:.3g})"
    elif not np.array_equal(replayed, eager):
        return f"{name}: values differ"
    return None


# --- the state a forward may change ------------------------------------------------------------
def state_of(modules) -> tuple:
    """The random stream's state and a copy of every buffer of ``modules``."""
    buffers = []
    for module in modules:
        for name, buffer in module._buffers.items():
            if buffer is not None:
                buffers.append((f"{type(module).__name__}.{name}", buffer, data_of(buffer).copy()))
    return default_generator.get_state(), buffers


def restore(state) -> None:
    generator_state, buffers = state
    default_generator.set_state(generator_state)
    for _, buffer, values in buffers:
        data_of(buffer)[...] = values


def state_difference(replayed, eager) -> str | None:
    if not np.array_equal(replayed[0], eager[0]):
        return "the random stream advanced differently"
    for (name, _, a), (_, _, b) in zip(replayed[1], eager[1]):
        found = difference_of_arrays(f"buffer {name}", a, b)
        if found:
            return found
    return None


# --- gradients ----------------------------------------------------------------------------------
def compare_grads(frame, grad_outputs, replayed) -> None:
    """Differentiate the eager graph kept in the frame with the same output gradients; compare."""
    eager_outputs = frame.eager
    roots = [eager_outputs[p] for p in frame.plan.grad_positions]
    pairs = [(t, g) for t, g in zip(roots, grad_outputs) if g is not None]
    if not pairs:
        return
    wanted = frame.node_inputs
    found = autograd.grad([t for t, _ in pairs], wanted, grad_outputs=[Tensor._wrap(g) for _, g in pairs],
                          retain_graph=True, allow_unused=True)
    for n, (mine, theirs) in enumerate(zip(replayed, found)):
        if theirs is None and mine is None:
            continue
        if theirs is None or mine is None:
            raise CompileCheckError(f"compiled backward: input {n} got a gradient on one side only")
        problem = difference_of_arrays(f"gradient of block input {n} (shape {wanted[n].shape})", mine,
                                       data_of(theirs))
        if problem:
            raise CompileCheckError(f"compiled backward differs from eager: {problem}")
