"""The gradient reducer of DistributedDataParallel: buckets, and all-reduce overlapped with backward.

Every rank computes the gradient of its own share of the batch; the step needs their average

    grad_p = (1/N) sum_r grad_p^(r)           (= the gradient of the mean loss over the global batch
                                               when every rank's share is the same size)

Sending each parameter's gradient separately would pay MPI's latency once per tensor, and
sending them all at the end would leave the network idle during backward. So the parameters are
grouped into buckets -- flat buffers of at most ``bucket_cap_mb`` (the first one at most 1 MB, so
that communication starts early) -- in reverse order of ``module.parameters()``, which is
roughly the order backward finishes them: the last layer's gradient is final first.

    backward reaches the last use of p  ->  the engine accumulates p.grad and calls the
    post-accumulate-grad hook  ->  p.grad is copied into its bucket's slice  ->  when the
    bucket's last gradient has arrived, Iallreduce(bucket) starts (non-blocking)

while the engine goes on with the earlier layers' VJPs. Each hook also tests the requests in
flight, which is what lets MPI move them along (it has no thread of its own). Buckets start in
index order, the same on every rank, as MPI requires of collectives. When the last bucket has
started -- the end of backward -- the reducer waits for all of them (with the group's timeout),
divides by N and writes the averages back into each ``p.grad``. So when ``backward()`` returns
the gradients are averaged, as in PyTorch, and ``optimizer.step()`` needs nothing special.

A parameter that receives no gradient in a step would leave its bucket waiting for ever; that
is an error at the next forward, unless ``find_unused_parameters=True``: then forward finds the
parameters its output does not depend on and marks them ready at once (they send zeros, plus a
"used" flag per parameter in the bucket, so one that no rank used keeps its ``.grad`` as it was).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ...backend import np
from ...distributed.process_group import DistributedError, _World, progress, require_group, wait_all
from ...tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable

FIRST_BUCKET_BYTES = 2**20


class Bucket:
    """A flat buffer holding the gradients of some parameters of one dtype."""

    def __init__(self, index: int, members: list, params: list, with_flags: bool) -> None:
        self.index, self.members = index, members       # members: parameter indices
        dtype = params[members[0]]._data.dtype
        self.slices, start = {}, 0
        for member in members:
            stop = start + params[member]._data.size
            self.slices[member] = (start, stop)
            start = stop
        self.flags_at = start                              # the "used" flags follow the gradients
        self.buffer = np.zeros(start + (len(members) if with_flags else 0), dtype=dtype)
        self.pending = len(members)
        self.request = None

    def nbytes(self) -> int:
        return self.buffer.nbytes


def assign_buckets(params: list, cap_bytes: int) -> list:
    """Parameter indices grouped into buckets: reverse order, one dtype per bucket, at most
    ``cap_bytes`` each (the first at most FIRST_BUCKET_BYTES); a bigger parameter gets its own."""
    buckets: list[list[int]] = []
    open_by_dtype: dict[np.dtype, list[Any]] = {}
    for index in reversed(range(len(params))):
        array = params[index]._data
        current = open_by_dtype.get(array.dtype)
        if current is not None:
            members, size, limit = current
            if size + array.nbytes <= limit:
                members.append(index)
                current[1] += array.nbytes
                continue
        limit = min(FIRST_BUCKET_BYTES, cap_bytes) if not buckets else cap_bytes
        members = [index]
        buckets.append(members)
        open_by_dtype[array.dtype] = [members, array.nbytes, limit]
    return buckets


class Reducer:
    """Averages the gradients of ``named_params`` across ranks during backward (see the module doc)."""

    def __init__(self, named_params: list, bucket_cap_mb: float, find_unused_parameters: bool) -> None:
        self.names = [name for name, _ in named_params]
        self.params = [param for _, param in named_params]
        self.find_unused_parameters = find_unused_parameters
        groups = assign_buckets(self.params, int(bucket_cap_mb * 2**20))
        self.buckets = [Bucket(i, members, self.params, find_unused_parameters)
                        for i, members in enumerate(groups)]
        self.bucket_of = {member: bucket for bucket in self.buckets for member in bucket.members}
        self.ready = [False] * len(self.params)
        self.in_flight: list[Any] = []
        self.next_to_launch, self.sync = 0, True
        reducer = weakref.ref(self)   # the hooks must not keep a dropped DDP's reducer alive

        def hook_for(index: int) -> Callable[[Tensor], None]:
            def hook(param: Tensor) -> None:
                alive = reducer()
                if alive is not None:
                    alive.mark_ready(index)
            return hook
        self.handles = [p.register_post_accumulate_grad_hook(hook_for(i)) for i, p in enumerate(self.params)]

    def __del__(self) -> None:
        for handle in getattr(self, "handles", ()):
            handle.remove()

    # --- one iteration ----------------------------------------------------------------------
    def prepare(self, sync: bool) -> None:
        """Called by forward: the previous iteration must have finished its reduction."""
        if any(self.ready):
            missing = [name for name, done in zip(self.names, self.ready) if not done]
            self._reset()
            raise DistributedError(
                "DistributedDataParallel: the previous iteration's gradient reduction did not finish: "
                f"these parameters received no gradient: {', '.join(missing[:8])}"
                f"{' ...' if len(missing) > 8 else ''}. Pass find_unused_parameters=True if some "
                "parameters are not used in every step (or set their requires_grad=False)")
        self.sync = sync

    def mark_unused(self, reachable: set) -> None:
        """find_unused_parameters: parameters the forward's output does not depend on are ready now."""
        if self.sync:
            for index, param in enumerate(self.params):
                if param not in reachable:
                    self.mark_ready(index, used=False)

    def mark_ready(self, index: int, used: bool = True) -> None:
        """Parameter ``index`` has its final gradient for this step: put it in its bucket."""
        if not self.sync:
            return
        if self.ready[index]:
            raise DistributedError(f"DistributedDataParallel: parameter {self.names[index]!r} received a "
                                   "gradient twice in one iteration (two backward passes through the "
                                   "same forward?): use no_sync() for all but the last, or add the losses")
        self.ready[index] = True
        bucket = self.bucket_of[index]
        start, stop = bucket.slices[index]
        grad = self.params[index]._grad
        if used and grad is not None:
            bucket.buffer[start:stop] = grad._data.reshape(-1)
        else:
            bucket.buffer[start:stop] = 0
        if self.find_unused_parameters:
            flag = bucket.flags_at + bucket.members.index(index)
            bucket.buffer[flag] = 1.0 if used and grad is not None else 0.0
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        else:
            progress(self.in_flight)

    def _launch_ready_buckets(self) -> None:
        comm, MPI = require_group("DistributedDataParallel"), _World.MPI
        while self.next_to_launch < len(self.buckets) and self.buckets[self.next_to_launch].pending == 0:
            bucket = self.buckets[self.next_to_launch]
            bucket.request = comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)  # type: ignore[attr-defined]
            self.in_flight.append(bucket.request)
            self.next_to_launch += 1
        if self.next_to_launch == len(self.buckets):
            self._finish()
        else:
            progress(self.in_flight)

    def _finish(self) -> None:
        """Every bucket is in flight: wait, average, and write the averages into each .grad."""
        try:
            wait_all(self.in_flight, f"DistributedDataParallel's gradient all-reduce "
                                     f"({len(self.buckets)} bucket(s))")
            for bucket in self.buckets:
                bucket.buffer /= _World.size
                for k, member in enumerate(bucket.members):
                    if self.find_unused_parameters and bucket.buffer[bucket.flags_at + k] == 0:
                        continue   # no rank used it: its .grad stays as it was
                    self._write_grad(self.params[member], bucket.buffer, *bucket.slices[member])
        finally:
            self._reset()

    @staticmethod
    def _write_grad(param: Tensor, buffer: np.ndarray, start: int, stop: int) -> None:
        values = buffer[start:stop].reshape(param._data.shape)
        if param._grad is None:
            param._grad = Tensor._wrap(values.copy())
        else:
            param._grad._data[...] = values
            param._grad._version += 1

    def _reset(self) -> None:
        self.ready = [False] * len(self.params)
        for bucket in self.buckets:
            bucket.pending, bucket.request = len(bucket.members), None
        self.next_to_launch, self.in_flight = 0, []
