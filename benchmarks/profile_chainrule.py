"""Where chainrule's time goes on one workload: cProfile of the same step the benchmark times.

    python benchmarks/profile_chainrule.py W2 --steps 2000
    python benchmarks/profile_chainrule.py W3 --depth 50000 --steps 3 --sort tottime

For a sampling view that includes NumPy's C time: py-spy record -o w1.svg -- python
benchmarks/profile_chainrule.py W1 --no-profile --steps 500
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import problems  # noqa: E402
from peers import chainrule_peer  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["W1", "W2", "W3", "W4", "LSTM", "W6", "GPT"])
    parser.add_argument("--depth", type=int, default=5000, help="W3 chain length")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, ...)")
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="just run (for py-spy)")
    args = parser.parse_args(argv)

    step = chainrule_peer.build(args.workload, problems.make(args.workload, args.depth))
    for _ in range(3):
        step()
    profiler = None if args.no_profile else cProfile.Profile()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(args.steps):
        step()
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.workload}: {args.steps} steps, {1e3 * elapsed / args.steps:.3f} ms/step"
          f"{' (under cProfile)' if profiler else ''}")
    if profiler:
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
