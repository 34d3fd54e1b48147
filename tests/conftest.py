"""Shared fixtures: a fixed seed for every test, float64 helpers for gradient checks, and the
markers of tests that need a system program (Debian's chromium, graphviz's dot, an MPI launcher).

Every Python package the suite uses comes with ``pip install -e ".[test]"``; only those system
programs may be missing, and then each test that needs one is skipped on its own (so the count
is honest) and the end of the run says, in one line, what to install.
"""

import importlib.util
import os
import shutil

import numpy as np
import pytest

import chainrule as cr

# The suite checks English output: the machine's own locale (LANG=ja_JP...) must not change it.
# (LANGUAGE comes first in gettext's order; tests of the language choice set their own.)
os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)
    np.random.seed(0)


def leaf(*shape, low=-1.0, high=1.0, positive=False, seed=None):
    """A float64 leaf tensor that requires grad, with values away from kinks when positive."""
    rng = np.random.default_rng(seed if seed is not None else abs(hash(shape)) % 2**32)
    data = rng.uniform(0.5, 1.5, shape) if positive else rng.uniform(low, high, shape)
    return cr.tensor(data, dtype=cr.float64, requires_grad=True)


CHROMIUM = "/usr/bin/chromium"
SYSTEM_PROGRAMS = {  # skip reason -> how to install what it names
    "needs a system browser (/usr/bin/chromium)": "apt-get install chromium",
    "needs graphviz's dot program": "apt-get install graphviz",
    "needs MPI (mpirun and mpi4py)": "apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py",
}
_REASON_CHROMIUM, _REASON_DOT, _REASON_MPI = SYSTEM_PROGRAMS
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=_REASON_CHROMIUM)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason=_REASON_DOT)
needs_mpi = pytest.mark.skipif(not (shutil.which("mpirun") or shutil.which("mpiexec"))
                               or importlib.util.find_spec("mpi4py") is None, reason=_REASON_MPI)


def pytest_terminal_summary(terminalreporter):
    """One line at the end: how many tests were skipped for a missing system program, and the
    command that installs it."""
    counts = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for wanted in SYSTEM_PROGRAMS:
            if wanted in reason:
                counts[wanted] = counts.get(wanted, 0) + 1
    if counts:
        parts = [f"{n} need {wanted.removeprefix('needs ')} ({SYSTEM_PROGRAMS[wanted]})"
                 for wanted, n in counts.items()]
        terminalreporter.write_line(f"chainrule: {sum(counts.values())} tests skipped for system programs: "
                                    + "; ".join(parts) + ". Everything else ran.")


@pytest.fixture(scope="module")
def torch_on_one_thread():
    """PyTorch on one thread for a module of tiny comparisons: on a busy 2-core machine its thread
    pool only adds waiting. Used by modules that import torch (pytest.importorskip) themselves."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
