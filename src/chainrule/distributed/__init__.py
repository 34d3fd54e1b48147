"""``torch.distributed`` under chainrule: processes that train one model together, over MPI.

    mpirun -n 4 python train.py          # four ranks on one machine or across several

    import chainrule.distributed as dist
    dist.init_process_group("mpi")       # no environment variables: mpirun numbers the ranks
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)      # in place, on every rank
    dist.broadcast(t, src=0); dist.all_gather(outputs, t); dist.barrier()
    dist.save_on_rank0(model.state_dict(), "checkpoint.crz")   # rank 0 writes, atomically
    dist.destroy_process_group()

``nn.parallel.DistributedDataParallel`` averages gradients during backward,
``nn.SyncBatchNorm`` normalises over the global batch, and
``chainrule.utils.data.distributed.DistributedSampler`` gives each rank its share of a dataset.
Needs the optional extra ``pip install chainrule[distributed]`` (mpi4py) and an MPI
implementation (Debian/Ubuntu: ``apt-get install openmpi-bin libopenmpi-dev``); importing this
package needs neither, and MPI starts only in ``init_process_group``.
"""

import importlib

from .collectives import ReduceOp, Work, all_gather, all_reduce, barrier, broadcast
from .process_group import (
    DistributedError,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
)

# save_on_rank0 needs chainrule.serialization, which `import chainrule` does not load until asked
# for (nn imports this package for SyncBatchNorm), so it is loaded on first use (PEP 562).
_LAZY = {"save_on_rank0": ".checkpoint"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule.distributed' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = ["DistributedError", "ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size", "group",
           "init_process_group", "is_available", "is_initialized", "save_on_rank0"]
