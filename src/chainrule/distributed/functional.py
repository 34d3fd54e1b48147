"""A differentiable all-reduce: the collective as a node of the graph (torch.distributed.nn's idea).

    y = all_reduce(x)        y = x_0 + x_1 + ... + x_{N-1}     (every rank gets the same y)

Each rank r has its own loss L_r, and what training needs is the gradient of the sum of them
(DistributedDataParallel then averages). y enters every rank's loss, so

    d(sum_i L_i)/d x_r = sum_i dL_i/dy            (the same on every rank)

which is itself an all-reduce, of the gradients that reach y: the VJP below. Under
``create_graph`` that VJP is this same primitive again, so second derivatives work too.

SyncBatchNorm is built from it: the batch statistics are all-reduced sums, and backward
all-reduces their gradients without any code of its own.
"""

from __future__ import annotations

from ..backend import np
from ..primitive import Primitive
from ..tensor import Tensor
from .process_group import _World, require_group, wait_all


def _summed(array: np.ndarray) -> np.ndarray:
    """sum over ranks of ``array`` (a new array; Iallreduce + a wait with the group's deadline)."""
    comm = require_group("all_reduce (differentiable)")
    result = np.ascontiguousarray(array).copy()
    wait_all([comm.Iallreduce(_World.MPI.IN_PLACE, result, op=_World.MPI.SUM)],
             f"differentiable all_reduce of a {result.shape} tensor")
    return result


def _all_reduce_vjp(xp, grad_output, output, x):
    """dL/dx = all_reduce(dL/dy): the gradient every rank's loss sends back to y, summed."""
    if isinstance(grad_output, Tensor):     # create_graph: record the backward pass too
        return all_reduce_sum(grad_output)
    return _summed(grad_output)


all_reduce_sum = Primitive("all_reduce", _summed, _all_reduce_vjp)


def all_reduce(tensor: Tensor) -> Tensor:
    """The sum of ``tensor`` over all ranks, as a new tensor that gradients flow through."""
    return all_reduce_sum(tensor)
