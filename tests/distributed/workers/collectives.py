"""Run as N ranks: the collectives, the differentiable all-reduce, DistributedSampler's defaults
and save_on_rank0. Each rank reports what it holds afterwards; the test knows what it should be.

    python collectives.py CHECKPOINT_PATH
"""

import sys

import numpy as np
from report import report

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed.functional import all_reduce as differentiable_all_reduce
from chainrule.utils.data import DistributedSampler


def main(checkpoint_path: str):
    assert not dist.is_initialized()
    dist.init_process_group("mpi")          # no environment variables: mpirun told MPI everything
    rank, world = dist.get_rank(), dist.get_world_size()
    found = {"initialized": dist.is_initialized(), "world": world, "backend": dist.get_backend()}

    value = lambda dtype: cr.tensor([rank + 1.0, -(rank + 1.0) * 2, 3.0], dtype=dtype)  # noqa: E731
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = value(cr.float64)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        found[f"all_reduce_{op}"] = t.tolist()
    ints = cr.tensor([rank, 10 * rank], dtype=cr.int64)
    dist.all_reduce(ints)
    found["all_reduce_int64"] = ints.tolist()
    found["all_reduce_int64_dtype"] = str(ints.dtype)
    strided = cr.tensor(np.arange(12.0).reshape(3, 4) * (rank + 1)).T     # not contiguous
    dist.all_reduce(strided)
    found["all_reduce_transposed"] = strided.tolist()
    work = dist.all_reduce(value(cr.float32), async_op=True)
    found["async_wait"] = work.wait()

    shared = cr.full((2, 2), float(rank))
    dist.broadcast(shared, src=world - 1)
    found["broadcast_from_last"] = shared.tolist()
    gathered = [cr.zeros(2, dtype=cr.int64) for _ in range(world)]
    dist.all_gather(gathered, cr.tensor([rank, rank * rank]))
    found["all_gather"] = [t.tolist() for t in gathered]
    dist.barrier()

    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = differentiable_all_reduce(x * (rank + 1))           # sum_r (r+1) x_r
    (y * (rank + 1)).sum().backward()                       # L_r = (r+1) y
    found["differentiable_value"] = y.tolist()
    found["differentiable_grad"] = x.grad.tolist()          # (r+1) * sum_i (i+1)

    sampler = DistributedSampler(list(range(10)), shuffle=False)   # num_replicas, rank from dist
    found["sampler"] = [sampler.num_replicas, sampler.rank, list(sampler)]

    found["wrote_checkpoint"] = dist.save_on_rank0({"rank": cr.tensor(rank), "step": 7}, checkpoint_path)
    found["checkpoint_after_barrier"] = int(cr.load(checkpoint_path)["rank"].item())
    report(rank, **found)
    dist.destroy_process_group()
    report(rank, initialized_after_destroy=dist.is_initialized())


if __name__ == "__main__":
    main(sys.argv[1])
