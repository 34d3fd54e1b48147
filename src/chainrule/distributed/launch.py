"""Starting N ranks on this machine: the mpirun command line for Open MPI or MPICH.

    mpirun_command(3, [sys.executable, "train.py"])
    -> ["mpirun", "--oversubscribe", "--allow-run-as-root", "-n", "3", python, "train.py"]  (Open MPI)
    -> ["mpirun", "-n", "3", python, "train.py"]                                          (MPICH)

Open MPI refuses more ranks than cores unless told ``--oversubscribe`` (on a 2-core machine, 3
ranks share the cores: slower, still correct) and refuses to run as root unless told
``--allow-run-as-root`` (containers, CI); MPICH needs neither. ``chainrule distributed-demo``
and the test suite both start their ranks with this.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from .process_group import INSTALL_HINT, DistributedError

LAUNCHERS = ("mpirun", "mpiexec")
RANK_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def find_mpirun() -> str | None:
    """The path of mpirun (or mpiexec), or None."""
    for name in LAUNCHERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@functools.lru_cache(maxsize=None)
def _is_open_mpi(launcher: str) -> bool:
    try:
        banner = subprocess.run([launcher, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "open mpi" in (banner.stdout + banner.stderr).lower()


def mpirun_command(ranks: int, command: list) -> list:
    """The command line that runs ``command`` as ``ranks`` MPI processes on this machine."""
    launcher = find_mpirun()
    if launcher is None:
        raise DistributedError(f"no mpirun or mpiexec on PATH: {INSTALL_HINT}")
    options = []
    if _is_open_mpi(launcher):
        options.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            options.append("--allow-run-as-root")
    return [launcher, *options, "-n", str(int(ranks)), *command]


def launched_by_mpirun(environ=None) -> bool:
    """Whether this process is one of the ranks mpirun started (Open MPI, MPICH and PMIx set
    these variables for their ranks)."""
    environ = os.environ if environ is None else environ
    return any(name in environ for name in RANK_VARIABLES)
