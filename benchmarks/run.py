"""chainrule side by side with its peers: one command, every installed peer, each in its own process.

    python benchmarks/run.py                      # everything, 5 rounds (about 10 minutes)
    python benchmarks/run.py --quick              # fewer steps and rounds: a quick look
    python benchmarks/run.py --workloads W1,W3 --peers chainrule,numpy,torch --json out.json

Each (library, workload) pair runs in a fresh worker process (worker.py) that prints JSON. The
pairs are interleaved round by round (chainrule, numpy, torch, ..., chainrule, numpy, torch, ...)
so a slow spell on the machine hits every library alike. The table gives, per workload, the median
over rounds of each round's median step time, chainrule's time divided by the peer's, the spread
of the round medians (a noise gauge) and the worker's peak memory. README.md explains the rest.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import environment  # noqa: E402 - after the path set-up above
import report  # noqa: E402
from peers import PEERS  # noqa: E402

# (workload, W3 depth) in the order they run
CASES = [("W1", None), ("W2", None), ("W3", 5000), ("W3", 50000), ("W4", None), ("M1D", None), ("LSTM", None),
         ("W6", None), ("GPT", None)]

# timed steps, untimed warm-up steps, seconds of timed steps at most (a step stops the clock
# early for slow peers, after 3 steps at least)
FULL = {"W1": (50, 3, 10.0), "W2": (500, 20, 5.0), "W3": (10, 1, 10.0), "W4": (50, 3, 10.0),
        "M1D": (300, 20, 5.0), "LSTM": (50, 3, 10.0), "W6": (30, 3, 10.0), "GPT": (30, 3, 10.0)}
QUICK = {"W1": (10, 1, 2.0), "W2": (50, 2, 1.0), "W3": (2, 1, 2.0), "W4": (10, 1, 2.0), "M1D": (30, 2, 1.0),
         "LSTM": (10, 1, 2.0),
         "W6": (5, 1, 2.0), "GPT": (5, 1, 2.0)}

# the module each peer needs, to skip missing ones without starting a process
IMPORT_NAMES = {"chainrule": "chainrule", "compiled": "chainrule", "numpy": "numpy", "torch": "torch",
                "torch-compiled": "torch", "autograd": "autograd", "micrograd": "micrograd",
                "tinygrad": "tinygrad"}


def case_name(workload: str, depth) -> str:
    return workload if depth is None else f"{workload}-{depth}"


def unavailable(peer: str) -> str | None:
    """Why ``peer`` cannot run here, or None."""
    if importlib.util.find_spec(IMPORT_NAMES[peer]) is None:
        return f"not installed (pip install {peer})"
    if peer == "torch-compiled" and not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "installed, but torch.compile's inductor builds C++ and no C++ compiler is on PATH"
    if peer == "tinygrad" and shutil.which("clang") is None:
        return "installed, but its CPU device compiles with clang, which is not on PATH"
    return None


def run_worker(peer: str, workload: str, depth, steps: int, warmup: int, budget: float,
               warmup_s: float, min_steps: int, timeout: float) -> dict:
    command = [sys.executable, os.path.join(HERE, "worker.py"), "--library", peer, "--workload", workload,
               "--steps", str(steps), "--warmup", str(warmup), "--budget", str(budget),
               "--warmup-s", str(warmup_s), "--min-steps", str(min_steps)]
    if depth is not None:
        command += ["--depth", str(depth)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"error": f"worker exited with status {done.returncode}: {tail[0][:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(rounds: list[dict]) -> dict:
    """One (library, workload) entry from its per-round worker results."""
    first = rounds[0]
    entry = {k: first[k] for k in ("version", "missing", "skipped", "error", "traceback_tail",
                                   "thread_pools", "first_loss", "first_losses") if k in first}
    timed = [r for r in rounds if r.get("step_ms")]
    if timed:
        medians = [statistics.median(r["step_ms"]) for r in timed]
        median = statistics.median(medians)
        entry.update({
            "median_ms": round(median, 5),
            "round_medians_ms": [round(m, 5) for m in medians],
            "spread_pct": round(100 * (max(medians) - min(medians)) / median, 1) if median else None,
            "steps_per_round": [len(r["step_ms"]) for r in timed],
            "last_loss": timed[-1]["last_loss"],
        })
    rss = [r["peak_rss_mb"] for r in rounds if "peak_rss_mb" in r]
    if rss:
        entry["peak_rss_mb"] = max(rss)
    return entry


def measure_workloads(args, peers: list[str], notes: dict) -> dict:
    settings = QUICK if args.quick else FULL
    cases = [c for c in CASES if c[0] in args.workloads]
    per_round = {case_name(*c): {p: [] for p in peers} for c in cases}
    for round_index in range(args.rounds):
        for workload, depth in cases:
            name = case_name(workload, depth)
            steps, warmup, budget = settings[workload]
            if args.steps is not None:
                steps = args.steps
            min_steps = min(1 if args.quick else 3, steps)
            for peer in peers:
                history = per_round[name][peer]
                if history and not history[0].get("step_ms"):
                    continue  # skipped, failed or missing: once is enough
                if peer in notes:
                    history.append({"missing": notes[peer]})
                    continue
                print(f"[round {round_index + 1}/{args.rounds}] {name:9s} {peer}",
                      file=sys.stderr, flush=True)
                history.append(run_worker(peer, workload, depth, steps, warmup, budget, args.warmup_s,
                                          min_steps, args.timeout))
    return {name: {peer: summarise(rounds) for peer, rounds in by_peer.items() if rounds}
            for name, by_peer in per_round.items()}


def _compile_bytecode(module: str) -> None:
    """Write the package's .pyc files, as `pip install` does, so every library is timed loading
    bytecode. An editable install under PYTHONDONTWRITEBYTECODE=1 (set on these machines) would
    otherwise compile chainrule's sources on every import (240 ms instead of 155 on a 2 GHz VM)."""
    spec = importlib.util.find_spec(module)
    for location in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(location, quiet=2, workers=1)


def measure_import_times(args, peers: list[str]) -> dict:
    """Median seconds of ``import X`` (X alone, in a fresh interpreter), interleaved."""
    modules = [m for m in ("chainrule", "torch", "numpy") if m in peers or m == "numpy"]
    for module in modules:
        _compile_bytecode(module)
    times = {m: [] for m in modules}
    for _ in range(3 if args.quick else 9):
        for module in modules:
            code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
            if done.returncode == 0:
                times[module].append(float(done.stdout.strip()))
    return {m: {"median_s": round(statistics.median(t), 4), "samples_s": [round(x, 4) for x in t]}
            for m, t in times.items() if t}


def measure_training_memory(args, peers: list[str], notes: dict) -> dict:
    """Peak RSS of a W1 training run of 1,000 steps (100 with --quick), one process per library."""
    steps = 100 if args.quick else 1000
    memory = {}
    for peer in ("chainrule", "torch", "numpy"):
        if peer not in peers or peer in notes:
            continue
        print(f"[W5 memory] {peer}: {steps} W1 steps", file=sys.stderr, flush=True)
        result = run_worker(peer, "W1", None, steps, 1, 1e9, 0.0, steps, args.timeout)
        times = result.get("step_ms") or []
        memory[peer] = {"steps": len(times), "peak_rss_mb": result.get("peak_rss_mb"),
                        "median_ms": round(statistics.median(times), 4) if times else None}
        if "error" in result:
            memory[peer]["error"] = result["error"]
    return memory


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="chainrule vs its peers, each library in its own process")
    parser.add_argument("--quick", action="store_true", help="few steps, 2 rounds: a look, not a result")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,M1D,W5,LSTM,W6,GPT",
                        help="comma-separated subset of W1..W6, LSTM, GPT")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of the peers")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5, quick 2)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per worker (overrides defaults)")
    parser.add_argument("--warmup-s", type=float, default=1.0,
                        help="untimed seconds first in each worker (PyTorch's first ~0.4 s are slow)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a worker is given up")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"), help="where to write")
    args = parser.parse_args(argv)
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    args.rounds = args.rounds or (2 if args.quick else 5)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for peer in peers:
        if peer not in PEERS:
            parser.error(f"unknown peer {peer!r}; choose from {', '.join(PEERS)}")

    started = time.time()
    notes = {p: why for p in peers if (why := unavailable(p))}
    results = {"settings": {"quick": args.quick, "rounds": args.rounds, "peers": peers,
                            "workloads": args.workloads, "steps_override": args.steps},
               "machine": environment.describe(), "unavailable": notes,
               "workloads": measure_workloads(args, peers, notes)}
    if "W5" in args.workloads:
        results["W5"] = {"import": measure_import_times(args, peers),
                         "training_memory": measure_training_memory(args, peers, notes)}
    results["machine"]["load_average_end"] = environment.load_average()
    results["elapsed_s"] = round(time.time() - started, 1)
    results["targets"] = report.check_targets(results)

    print(report.render(results))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
        print(f"\nJSON written to {args.json}")
    return results


if __name__ == "__main__":
    main()
