"""Run as N ranks: when does DDP start its all-reduces, relative to the backward pass?

A recording communicator notes each ``Iallreduce`` as DDP issues it; tensor hooks on each
layer's output note when the backward walk reaches that layer (before the layer's own VJPs run).
With one parameter per bucket, the last layer's buckets must be in flight before the walk
reaches the first layer -- communication overlapping the rest of backward. Reported per rank:
the events in order, and the time of the first Iallreduce and of backward's return.
"""

import time

from report import report

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.distributed.process_group import _World
from chainrule.nn.parallel import DistributedDataParallel as DDP


class RecordingComm:
    """The real communicator, with every Iallreduce written down as it is issued."""

    def __init__(self, comm, events):
        self._comm, self._events = comm, events

    def Iallreduce(self, *args, **kwargs):
        self._events.append(("Iallreduce", time.perf_counter()))
        return self._comm.Iallreduce(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._comm, name)


def main():
    dist.init_process_group()
    rank = dist.get_rank()
    cr.manual_seed(0)
    layers = [nn.Linear(32, 64), nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 10)]
    events = []
    for number, layer in enumerate(layers, start=1):
        def watch(module, args, output, number=number):
            output.register_hook(lambda grad: events.append((f"reached layer {number}", time.perf_counter())))
        layer.register_forward_hook(watch)
    body = [layers[0], nn.ReLU(), layers[1], nn.ReLU(), layers[2], nn.ReLU(), layers[3]]
    model = DDP(nn.Sequential(*body), bucket_cap_mb=1e-6)     # one parameter per bucket
    _World.comm = RecordingComm(_World.comm, events)
    loss = model(cr.randn(16, 32)).square().mean()
    loss.backward()
    returned = time.perf_counter()
    _World.comm = _World.comm._comm
    issued = [t for name, t in events if name == "Iallreduce"]
    report(rank, events=[name for name, _ in events], buckets=len(model.reducer.buckets),
           first_allreduce_before_return_s=returned - issued[0])
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
