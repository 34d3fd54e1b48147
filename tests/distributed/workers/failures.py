"""Run as N ranks: set-ups that must fail clearly instead of hanging.

    python failures.py mismatch   rank 1 builds a wider first layer: DDP refuses on every rank
    python failures.py unused     a layer that gets no gradient: the next forward says which
    python failures.py raise      rank 1 raises in its third step: the job is aborted
    python failures.py hang       rank 1 stops answering in its third step: the others time out
    python failures.py exit       rank 1's process exits in its third step: mpirun ends the job
"""

import datetime
import os
import sys
import time

from report import report

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn, optim
from chainrule.nn.parallel import DistributedDataParallel as DDP

HANG_TIMEOUT_S = 3


def model(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(6, hidden), nn.ReLU(), nn.Linear(hidden, 3))


class WithSpare(nn.Module):
    """A model with a layer its forward never calls."""

    def __init__(self):
        super().__init__()
        self.net, self.spare = model(16), nn.Linear(3, 3)

    def forward(self, x):
        return self.net(x)


def train(net, rank: int, mode: str) -> None:
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    for step in range(6):
        if rank == 1 and step == 2:
            if mode == "raise":
                raise RuntimeError("rank 1 fails on purpose")
            if mode == "hang":
                time.sleep(600)
            if mode == "exit":
                sys.stdout.flush()
                os._exit(3)
        optimizer.zero_grad()
        net(cr.randn(4, 6)).square().mean().backward()
        optimizer.step()


def main(mode: str):
    timeout = datetime.timedelta(seconds=HANG_TIMEOUT_S if mode == "hang" else 600)
    dist.init_process_group("mpi", timeout=timeout)
    rank = dist.get_rank()
    if mode == "mismatch":
        try:
            DDP(model(17 if rank == 1 else 16))
        except dist.DistributedError as err:
            report(rank, error=str(err))
        dist.destroy_process_group()
        return
    if mode == "unused":
        ddp = DDP(WithSpare())
        for _step in range(2):
            try:
                ddp(cr.randn(4, 6)).sum().backward()
            except dist.DistributedError as err:
                report(rank, error=str(err))
        dist.destroy_process_group()
        return
    train(DDP(model(16)), rank, mode)
    report(rank, finished=True)


if __name__ == "__main__":
    main(sys.argv[1])
