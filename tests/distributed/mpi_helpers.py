"""Running a worker script as N MPI ranks from a test: mpirun in its own process group, a
timeout that kills the whole job, and the ranks' results read back.

A worker calls ``report(rank, key=value, ...)`` (workers/report.py), which appends a JSON line to
rankN.jsonl in a fresh folder; ``results()`` returns {rank: every key it reported}.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from chainrule.distributed.launch import mpirun_command

WORKERS = Path(__file__).resolve().parent / "workers"
SRC = Path(__file__).resolve().parents[2] / "src"


def run_ranks(ranks: int, worker: str, *args, timeout: float = 180):
    """Run ``workers/<worker>`` as ``ranks`` MPI processes; a CompletedProcess (output merged) with
    ``.results``, what each rank reported."""
    folder = tempfile.mkdtemp(prefix="chainrule-mpi-")
    command = mpirun_command(ranks, [sys.executable, str(WORKERS / worker), *map(str, args)])
    try:
        job = run_job(command, timeout, {"CHAINRULE_TEST_RESULTS": folder})
        job.results = _read_reports(Path(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return job


def run_job(command: list, timeout: float, env: dict | None = None):
    """Run ``command`` (an mpirun, or a program that starts one) with this checkout's chainrule,
    one BLAS thread per rank, and a timeout after which the whole process group is ended."""
    environment = dict(os.environ, **(env or {}))
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), environment.get("PYTHONPATH")]))
    environment.setdefault("OMP_NUM_THREADS", "1")
    environment.setdefault("OPENBLAS_NUM_THREADS", "1")
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=environment, start_new_session=True)
    try:
        output, _ = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGTERM)   # mpirun (the group we made) passes it on to its ranks
        try:
            output, _ = job.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
            output, _ = job.communicate()
        raise AssertionError(f"{' '.join(command)} did not finish in {timeout} s:\n{output}") from None
    return subprocess.CompletedProcess(command, job.returncode, output, "")


def _read_reports(folder: Path) -> dict:
    found = {}
    for path in sorted(folder.glob("rank*.jsonl")):
        rank = int(path.stem.removeprefix("rank"))
        for line in path.read_text(encoding="utf-8").splitlines():
            found.setdefault(rank, {}).update(json.loads(line))
    return found


def results(job) -> dict:
    """{rank: {...}}: what each rank reported (a failed job is an assertion showing its output)."""
    assert job.returncode == 0, job.stdout
    return job.results
