"""``chainrule distributed-demo``: the digits MLP trained on N MPI ranks, and each rank's throughput.

    chainrule distributed-demo --ranks 2          # starts `mpirun -n 2` on this command itself
    mpirun -n 4 chainrule distributed-demo        # or: run as the ranks mpirun started

Each rank reads its share of the training digits through a DistributedSampler (``--batch-size``
per rank, so the global batch is N times that), DistributedDataParallel averages the gradients,
and every rank takes the same Adam steps. At the end rank 0 prints, per rank, the samples it
trained on, the seconds its training loop took (waiting for the others included) and their
ratio; then all ranks together, the test accuracy, and whether the parameters are still
identical on every rank (they must be: that is what data-parallel training promises).

When it starts the ranks itself it gives each rank cores / N BLAS threads (unless
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS are set), so N ranks do not fight over the cores.

The command's flags are defined with the others in chainrule/cli/parser.py (so that ``chainrule
--help`` loads no dataset); ``run(args)`` is where the command starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset, load_digits, train_test_split
from chainrule.locale import _

from . import collectives, process_group
from .launch import find_mpirun, launched_by_mpirun, mpirun_command

WIDTHS = (64, 256, 128, 10)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def run(args) -> int:
    return train_as_rank(args) if launched_by_mpirun() else launch(args)


# --- starting the ranks -----------------------------------------------------------------------
def _flags(args) -> list:
    flags = ["--epochs", args.epochs, "--batch-size", args.batch_size, "--lr", args.lr,
             "--bucket-cap-mb", args.bucket_cap_mb, "--seed", args.seed]
    if getattr(args, "lang", None):
        flags += ["--lang", args.lang]
    return [str(flag) for flag in flags]


def launch(args) -> int:
    """Start ``mpirun -n RANKS`` on this same command and pass its exit status on."""
    if not process_group.is_available():
        raise process_group.DistributedError(_("distributed-demo needs mpi4py: pip install "
                                               "chainrule[distributed]"))
    if find_mpirun() is None:
        raise process_group.DistributedError(_("distributed-demo needs an MPI launcher (mpirun), which is "
                                               "not installed: apt-get install openmpi-bin libopenmpi-dev"))
    itself = [sys.executable, "-m", "chainrule", "distributed-demo", *_flags(args)]
    command = mpirun_command(args.ranks, itself)
    environment = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // args.ranks))
    for name in THREAD_VARIABLES:
        environment.setdefault(name, threads)
    print(_("starting {ranks} ranks: {command}").format(ranks=args.ranks, command=" ".join(command)),
          flush=True)
    return subprocess.run(command, env=environment).returncode


# --- one rank ---------------------------------------------------------------------------------
def build_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(WIDTHS[0], WIDTHS[1]), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(WIDTHS[1], WIDTHS[2]), nn.ReLU(), nn.Linear(WIDTHS[2], WIDTHS[3]))


def train_as_rank(args) -> int:
    process_group.init_process_group("mpi")
    rank, world = process_group.get_rank(), process_group.get_world_size()
    cr.manual_seed(args.seed)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=args.seed)
    train_set = TensorDataset(X_train, y_train)
    sampler = cr.utils.data.DistributedSampler(train_set, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = nn.parallel.DistributedDataParallel(build_mlp(), bucket_cap_mb=args.bucket_cap_mb)
    cr.manual_seed(args.seed + 1 + rank)      # rank 0's weights everywhere; each rank its own dropout
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(_("chainrule distributed-demo: digits MLP {widths}, {ranks} ranks × batch {batch} = global "
                "batch {global_batch}, Adam lr={lr}, {epochs} epochs ({train} training digits, {share} per "
                "rank)").format(widths=" → ".join(map(str, WIDTHS)), ranks=world, batch=args.batch_size,
                                global_batch=world * args.batch_size, lr=args.lr, epochs=args.epochs,
                                train=len(train_set), share=len(sampler)), flush=True)
    samples = steps = 0
    seconds = 0.0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        loss_sum = cr.zeros(1, dtype=cr.float64)
        started = time.perf_counter()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            samples, steps = samples + len(yb), steps + 1
            loss_sum += loss.item() * len(yb)
        seconds += time.perf_counter() - started
        collectives.all_reduce(loss_sum)
        if rank == 0 and (epoch + 1) % max(1, args.epochs // 5) == 0:
            mean_loss = loss_sum.item() / (world * len(sampler))
            print(_("epoch {epoch:>4}/{epochs}  loss {loss:.4f}").format(
                epoch=epoch + 1, epochs=args.epochs, loss=mean_loss), flush=True)
    _report(model.module, rank, world, samples, seconds, steps, X_test, y_test)
    process_group.destroy_process_group()
    return 0


def _identical_everywhere(model: nn.Module) -> bool:
    """Whether every rank holds rank 0's parameters, bit for bit."""
    flat = cr.cat([p.detach().reshape(-1) for p in model.parameters()])
    theirs = flat.clone()
    collectives.broadcast(theirs, 0)
    difference = (flat - theirs).abs().max().reshape(1)
    collectives.all_reduce(difference, op=collectives.ReduceOp.MAX)
    return difference.item() == 0.0


def _report(model, rank, world, samples, seconds, steps, X_test, y_test) -> None:
    mine = cr.tensor([samples, seconds, steps], dtype=cr.float64)
    everyone = [cr.zeros(3, dtype=cr.float64) for _rank in range(world)]
    collectives.all_gather(everyone, mine)
    identical = _identical_everywhere(model)
    if rank != 0:
        return
    model.eval()
    with cr.no_grad():
        accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    for number, stats in enumerate(everyone):
        count, time_s, step_count = stats.tolist()
        print(_("rank {rank}: {samples:,} samples in {seconds:.2f} s = {rate:,.0f} samples/s "
                "({steps} steps)").format(rank=number, samples=int(count), seconds=time_s,
                                          rate=count / time_s, steps=int(step_count)))
    total = sum(stats.tolist()[0] for stats in everyone)
    slowest = max(stats.tolist()[1] for stats in everyone)
    print(_("all {ranks} ranks: {rate:,.0f} samples/s together; test accuracy {accuracy:.1%} ({points} "
            "digits); parameters identical on every rank: {same}").format(
        ranks=world, rate=total / slowest, accuracy=accuracy, points=len(y_test),
        same=_("yes") if identical else _("NO")), flush=True)
