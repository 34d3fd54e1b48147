"""DistributedDataParallel: the same model on every rank, each rank on its share of the batch.

    import chainrule.distributed as dist
    dist.init_process_group("mpi")                  # under  mpirun -n 4 python train.py
    model = nn.parallel.DistributedDataParallel(model)
    for xb, yb in loader:                           # loader over a DistributedSampler
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()           # gradients averaged over ranks on return
        optimizer.step()                            # every rank takes the same step

At construction every rank checks that the others hold the same model (names, shapes and
dtypes of parameters and buffers, compared after an all-gather of that signature: a mismatch is
an error naming the first difference on every rank, instead of a silent broadcast into the
wrong shapes) and then takes rank 0's parameters and buffers, so all ranks start equal. In
training, forward also broadcasts rank 0's buffers (BatchNorm's running statistics) first,
unless ``broadcast_buffers=False``; use ``nn.SyncBatchNorm.convert_sync_batchnorm`` for batch
statistics over the global batch.

Backward averages the gradients in buckets while it runs and waits for them before it returns
(buckets.py), like PyTorch. With equal shares the averaged gradient is the gradient of the
global batch's mean loss, so N ranks take the steps one process would on the whole batch.

``with model.no_sync():`` around forward and backward skips the averaging, for gradient
accumulation: gradients add up locally, and the next synchronised backward averages the sums.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ...distributed import collectives
from ...distributed import process_group as groups
from ...errors import ArgumentError
from ...grad_mode import is_grad_enabled
from ...tensor import Tensor
from ..module import Module
from .buckets import Reducer

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import Any

    from ...tensor import Tensor


DEFAULT_BUCKET_CAP_MB = 25


def _signature(module: Module) -> list:
    """[kind, name, shape, dtype] of every parameter and buffer: what must agree across ranks."""
    entries = [["parameter", name, list(p.shape), str(p.dtype)] for name, p in module.named_parameters()]
    entries += [["buffer", name, list(b.shape), str(b.dtype)] for name, b in module.named_buffers()
                if b is not None]
    return entries


def _describe(entry: Sequence[Any]) -> str:
    return f"{entry[0]} {entry[1]!r} {tuple(entry[2])} {entry[3]}"


def verify_same_model(module: Module) -> None:
    """Every rank must hold a model of the same structure; raise, on every rank, if not."""
    signatures = collectives.all_gather_json(_signature(module), "DistributedDataParallel's model check")
    reference = signatures[0]
    for rank, theirs in enumerate(signatures[1:], start=1):
        if theirs == reference:
            continue
        for ours, other in zip(reference, theirs):
            if ours != other:
                raise groups.DistributedError(
                    f"DistributedDataParallel: the model differs between ranks: rank 0 has "
                    f"{_describe(ours)} where rank {rank} has {_describe(other)}")
        raise groups.DistributedError(
            f"DistributedDataParallel: the model differs between ranks: rank 0 has {len(reference)} "
            f"parameters and buffers, rank {rank} has {len(theirs)}")


def broadcast_from_rank0(tensors: Iterable[Tensor]) -> None:
    """Every rank's tensors become rank 0's (non-blocking broadcasts, one wait)."""
    works = [collectives.broadcast(t, 0, async_op=True) for t in tensors]
    for work in works:
        work.wait()


def _tensors_in(value: object) -> Iterator[Tensor]:
    """The tensors inside a forward's output (a tensor, or tuples, lists and dicts of them)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _reachable_leaves(outputs: object) -> set[Tensor]:
    """The leaf tensors the outputs' graph reaches (find_unused_parameters)."""
    seen: set[Tensor] = set()
    leaves: set[Tensor] = set()
    stack = list(_tensors_in(outputs))
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        inputs = tensor._inputs()
        if inputs is None:
            leaves.add(tensor)
        else:
            stack.extend(inputs)
    return leaves


class DistributedDataParallel(Module):
    """Data-parallel training over the process group (see the module docstring).

    module                  the model (the same on every rank); ``.module`` gives it back
    broadcast_buffers       broadcast rank 0's buffers at each training forward (True)
    bucket_cap_mb           the largest bucket of gradients sent as one all-reduce (25 MB)
    find_unused_parameters  let some parameters get no gradient in a step (False)
    device_ids, output_device, dim, process_group, check_reduction, gradient_as_bucket_view,
    static_graph            accepted as PyTorch's; chainrule runs on the CPU with one group
    """

    def __init__(self, module: Module, device_ids: Sequence[int | str] | None = None,
                 output_device: object = None, dim: int = 0, broadcast_buffers: bool = True,
                 process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, **unused: object) -> None:
        super().__init__()
        groups.require_group("DistributedDataParallel")
        groups.check_group(process_group, "DistributedDataParallel")
        if not isinstance(module, Module):
            raise ArgumentError(f"DistributedDataParallel: expected an nn.Module, got "
                                f"{type(module).__name__}")
        if device_ids not in (None, [], ()) and list(device_ids) not in (["cpu"], [-1]):
            raise ArgumentError(f"DistributedDataParallel: device_ids={device_ids!r}, but chainrule runs on "
                                "the CPU: leave device_ids out")
        cap = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        if not cap > 0:
            raise ArgumentError(f"DistributedDataParallel: bucket_cap_mb must be positive, "
                                f"got {bucket_cap_mb!r}")
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise ArgumentError("DistributedDataParallel is not needed when a module doesn't have any "
                                "parameter that requires a gradient")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_cap_mb = cap
        self.require_backward_grad_sync = True
        verify_same_model(module)
        broadcast_from_rank0(list(module.parameters()) + [b for b in module.buffers() if b is not None])
        self.reducer = Reducer(named, cap, find_unused_parameters)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:   # the wrapped module's output
        training_step = is_grad_enabled() and self.module.training
        if training_step:
            self.reducer.prepare(sync=self.require_backward_grad_sync)
            buffers = [b for b in self.module.buffers() if b is not None]
            if self.broadcast_buffers and buffers:
                broadcast_from_rank0(buffers)
        outputs = self.module(*inputs, **kwargs)
        if training_step and self.find_unused_parameters:
            self.reducer.mark_unused(_reachable_leaves(outputs))
        return outputs

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forward and backward inside the block accumulate gradients locally, without averaging."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return f"bucket_cap_mb={self.bucket_cap_mb}, buckets={len(self.reducer.buckets)}"
