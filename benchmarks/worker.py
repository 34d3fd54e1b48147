"""Time one library on one workload in this (fresh) process; print one JSON object on stdout.

    python benchmarks/worker.py --library chainrule --workload W1 --steps 30 --warmup 3

Run by ``run.py``, one process per (library, workload, round), so no two libraries share a
process (PyTorch's OpenMP threads and NumPy's OpenBLAS threads slow each other down when they do).
The JSON holds every timed step in milliseconds, the first and last loss, the peak resident memory
of this process (ru_maxrss) and the BLAS thread pools seen by threadpoolctl when it is installed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import sys
import time
import traceback

MODULES = {
    "chainrule": "peers.chainrule_peer",
    "compiled": "peers.compiled_peer",
    "numpy": "peers.numpy_limit",
    "torch": "peers.torch_peer",
    "torch-compiled": "peers.torch_compiled_peer",
    "autograd": "peers.autograd_peer",
    "micrograd": "peers.micrograd_peer",
    "tinygrad": "peers.tinygrad_peer",
}


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _thread_pools() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed"}]
    keys = ("internal_api", "num_threads", "version", "architecture", "threading_layer")
    return [{k: pool.get(k) for k in keys if k in pool} for pool in threadpool_info()]


def _time_steps(step, warmup: int, warmup_s: float, steps: int, budget_s: float, min_steps: int):
    """Run untimed steps (``warmup`` of them and until ``warmup_s`` seconds have passed: PyTorch's
    first few steps can take 300x its steady one), then up to ``steps`` timed ones, stopping once
    ``budget_s`` is spent after at least ``min_steps``. Returns (milliseconds per step, losses)."""
    losses, started = [], time.perf_counter()
    while len(losses) < warmup or time.perf_counter() - started < warmup_s:
        losses.append(step())
    times = []
    started = time.perf_counter()
    for i in range(steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append((time.perf_counter() - t0) * 1e3)
        if i + 1 >= min_steps and time.perf_counter() - started > budget_s:
            break
    return times, losses


def run(args) -> dict:
    result = {"library": args.library, "workload": args.workload, "depth": args.depth}
    if args.library == "tinygrad":  # its CPU device; optimisers refuse to step unless TRAINING=1
        os.environ.setdefault("DEV", "CPU")
        os.environ.setdefault("TRAINING", "1")
    try:
        t0 = time.perf_counter()
        peer = importlib.import_module(MODULES[args.library])
        result["import_s"] = round(time.perf_counter() - t0, 4)
    except ImportError as err:
        result["missing"] = f"{type(err).__name__}: {err}"
        return result
    import problems  # after the library, so its import time above includes NumPy's
    from peers import Infeasible

    result["version"] = peer.version()
    try:
        step = peer.build(args.workload, problems.make(args.workload, args.depth))
        times, losses = _time_steps(step, args.warmup, args.warmup_s, args.steps, args.budget, args.min_steps)
    except Infeasible as err:
        result["skipped"] = str(err)
    except Exception as err:  # noqa: BLE001 - a peer's failure is a result to report, not a crash
        result["error"] = f"{type(err).__name__}: {str(err)[:200]}"
        result["traceback_tail"] = traceback.format_exc().strip().splitlines()[-3:]
    else:
        result["step_ms"] = [round(t, 5) for t in times]
        result["first_loss"] = float(losses[0])
        result["first_losses"] = [float(v) for v in losses[:5]]  # the same in every peer: a check
        result["last_loss"] = float(losses[-1])
    result["peak_rss_mb"] = _peak_rss_mb()
    result["thread_pools"] = _thread_pools()
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True, choices=sorted(MODULES))
    parser.add_argument("--workload", required=True,
                        choices=["W1", "W2", "W3", "W4", "M1D", "LSTM", "W6", "GPT"])
    parser.add_argument("--depth", type=int, default=None, help="W3 chain length")
    parser.add_argument("--steps", type=int, default=20, help="timed steps (at most)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (one at least)")
    parser.add_argument("--warmup-s", type=float, default=0.5, help="seconds of untimed steps (at least)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of timed steps (at most)")
    parser.add_argument("--min-steps", type=int, default=3, help="timed steps even past the budget")
    args = parser.parse_args(argv)
    args.warmup = max(args.warmup, 1)  # the first loss comes from the first (untimed) step
    json.dump(run(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
