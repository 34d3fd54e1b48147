"""The process group: which process am I, how many are we, and waiting for the others safely.

chainrule has one transport, MPI (through mpi4py), and one group, the world. ``mpirun -n 4
python train.py`` starts four copies of the script; each calls ``init_process_group()`` and MPI
already knows its rank (0..3) and the world size (4) -- no MASTER_ADDR, RANK or WORLD_SIZE
variables, no rendezvous. Run without mpirun, a script is a world of one.

Two things keep a job from hanging when one rank goes wrong (MPI itself would wait forever):

- every wait on a collective is a poll with a deadline (``timeout``, 30 minutes by default as in
  PyTorch): ``Test()`` on the requests, short sleeps in between, and past the deadline a
  ``DistributedError`` that says which collective and rank timed out;
- an exception that nobody catches on any rank (that one included) prints its traceback and
  then calls ``MPI_Abort``, which ends every rank of the job. Without it the failed rank would
  wait in ``MPI_Finalize`` at exit and the others in their next collective, for ever.

A rank whose process dies outright (killed, segfault, ``os._exit``) is noticed by mpirun, which
ends the others.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
import time

from ..errors import ArgumentError, ChainruleError

INSTALL_HINT = ("pip install chainrule[distributed] (mpi4py) and an MPI implementation "
                "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev)")
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
ACCEPTED_BACKENDS = (None, "mpi", "gloo", "cpu:gloo")   # gloo: PyTorch's CPU backend, run on MPI here
SPINS_BEFORE_SLEEPING = 100                              # Test() calls before the first sleep
LONGEST_SLEEP_S = 1e-3


class DistributedError(ChainruleError):
    """A distributed set-up or collective that cannot go on: MPI missing, no process group, ranks
    that disagree (model shapes), or a collective that did not finish before the timeout."""


class _World:
    """The state of this process's group (one per process, as PyTorch's default group)."""

    MPI = None          # the mpi4py.MPI module, once loaded
    comm = None         # chainrule's own duplicate of MPI_COMM_WORLD (None: not initialised)
    rank = 0
    size = 1
    timeout_s = DEFAULT_TIMEOUT.total_seconds()
    previous_excepthook = None


def is_available() -> bool:
    """Whether mpi4py is installed (it is not imported here: importing it starts MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def load_mpi():
    """The ``mpi4py.MPI`` module, or a DistributedError in one line saying what to install."""
    if _World.MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as err:   # no mpi4py, or mpi4py without an MPI library to load
            raise DistributedError(f"chainrule.distributed needs MPI ({err}): {INSTALL_HINT}") from None
        _World.MPI = MPI
    return _World.MPI


def _seconds(timeout) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)
    if not seconds > 0:
        raise ArgumentError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return seconds


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the job mpirun started: afterwards ``get_rank()`` and ``get_world_size()`` answer.

    backend      "mpi" (or None; "gloo", PyTorch's CPU backend, is accepted and runs on MPI too)
    timeout      how long any collective may wait for the other ranks (timedelta or seconds;
                 30 minutes by default) before it raises DistributedError
    world_size, rank   optional: when given they must be what mpirun decided
    init_method, store, group_name, pg_options, device_id   accepted for PyTorch's scripts and
                 not used: MPI knows the ranks without a rendezvous
    """
    if _World.comm is not None:
        raise DistributedError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() not in ACCEPTED_BACKENDS:
        raise ArgumentError(f"init_process_group: backend {backend!r} is not available; chainrule "
                            "communicates over MPI on the CPU: use backend='mpi' (or 'gloo')")
    timeout_s = _seconds(timeout)
    MPI = load_mpi()
    world = MPI.COMM_WORLD
    _check_launch(world.Get_size(), world.Get_rank(), world_size, rank)
    _World.comm = world.Dup()   # our own communicator: a script's own MPI calls never mix with ours
    _World.rank, _World.size, _World.timeout_s = _World.comm.Get_rank(), _World.comm.Get_size(), timeout_s
    _World.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught_exception


def _check_launch(size: int, rank: int, world_size: int, wanted_rank: int) -> None:
    """The sizes a script or a launcher asked for must be the ones mpirun made."""
    asked = os.environ.get("WORLD_SIZE")
    if world_size not in (-1, None) and int(world_size) != size:
        raise DistributedError(f"init_process_group(world_size={world_size}) but mpirun started {size} "
                               f"process(es): start the job with mpirun -n {world_size}")
    if wanted_rank not in (-1, None) and int(wanted_rank) != rank:
        raise DistributedError(f"init_process_group(rank={wanted_rank}) but MPI made this process rank "
                               f"{rank}: leave rank out, mpirun numbers the processes")
    if asked is not None and asked.isdigit() and int(asked) != size:
        raise DistributedError(f"WORLD_SIZE={asked} in the environment but MPI sees {size} process(es): "
                               f"chainrule's processes are started by mpirun -n {asked} (not torchrun)")


def _abort_on_uncaught_exception(kind, value, traceback) -> None:
    """sys.excepthook while a group exists: report, then end the whole job (see the module doc)."""
    hook = _World.previous_excepthook or sys.__excepthook__
    hook(kind, value, traceback)
    if _World.comm is not None and _World.size > 1:
        summary = (str(value).splitlines() or [""])[0][:200]
        sys.stderr.write(f"chainrule.distributed: rank {_World.rank} stopped with an uncaught "
                         f"{kind.__name__} ({summary}); aborting all {_World.size} ranks (MPI_Abort)\n")
        sys.stderr.flush()
        sys.stdout.flush()
        _World.MPI.COMM_WORLD.Abort(1)


def destroy_process_group(group=None) -> None:
    """Leave the group (MPI itself is finalised when the process exits)."""
    comm = require_group("destroy_process_group")
    check_group(group, "destroy_process_group")
    comm.Free()
    sys.excepthook = _World.previous_excepthook or sys.__excepthook__
    _World.comm, _World.rank, _World.size = None, 0, 1
    _World.previous_excepthook = None


def is_initialized() -> bool:
    return _World.comm is not None


def require_group(what: str):
    """The communicator, or the error PyTorch gives when init_process_group was not called."""
    if _World.comm is None:
        raise DistributedError(f"{what}: the default process group has not been initialized: call "
                               "chainrule.distributed.init_process_group() first (and start the script "
                               "with mpirun -n N)")
    return _World.comm


class _Group:
    """``dist.group.WORLD``: the one group there is."""

    WORLD = "WORLD"


group = _Group


def check_group(value, what: str) -> None:
    if value is not None and value != _Group.WORLD:
        raise ArgumentError(f"{what}: chainrule has one process group, the world (group=None); "
                            f"got group={value!r}")


def get_rank(group=None) -> int:
    """This process's number, 0 .. world size - 1."""
    require_group("get_rank")
    check_group(group, "get_rank")
    return _World.rank


def get_world_size(group=None) -> int:
    """How many processes take part."""
    require_group("get_world_size")
    check_group(group, "get_world_size")
    return _World.size


def get_backend(group=None) -> str:
    require_group("get_backend")
    return "mpi"


def wait_all(requests: list, what: str, timeout_s: float | None = None) -> None:
    """Wait for MPI requests, polling so that a rank that never arrives becomes an error after
    ``timeout_s`` (default: the group's timeout).

    ``Test()`` also drives MPI's progress: a non-blocking collective moves on while it is tested.
    """
    MPI = _World.MPI
    if MPI.Request.Testall(requests):
        return
    timeout_s = _World.timeout_s if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    polls, pause = 0, 1e-6
    while not MPI.Request.Testall(requests):
        polls += 1
        if polls < SPINS_BEFORE_SLEEPING:
            continue
        if time.monotonic() > deadline:
            raise DistributedError(
                f"rank {_World.rank}: {what} did not finish within {timeout_s:g} s; another of "
                f"the {_World.size} ranks has stopped, died or is stuck, or is calling other "
                "collectives in another order. Giving up (the timeout is init_process_group's timeout=)")
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_SLEEP_S)


def progress(requests: list) -> None:
    """Let MPI move the given in-flight requests along without waiting for them."""
    if requests:
        _World.MPI.Request.Testall(requests)
