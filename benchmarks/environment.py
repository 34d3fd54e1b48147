"""What the machine looked like during a run: CPU, BLAS settings, thread counts, load, versions.

Collected by the parent process without importing NumPy or any peer (those are measured in
their own processes; each worker adds the thread pools it saw through threadpoolctl).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

# Settings that change which BLAS kernels run and how many threads they use. They are recorded,
# never set: the suite measures the machine as it is configured.
THREAD_AND_BLAS_VARIABLES = (
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=os.path.dirname(os.path.abspath(__file__)), timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def describe() -> dict:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "environment": {name: os.environ.get(name) for name in THREAD_AND_BLAS_VARIABLES},
        "chainrule_commit": git_commit(),
        "load_average_start": load_average(),
    }
