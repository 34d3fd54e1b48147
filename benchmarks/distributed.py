"""Data-parallel training on this machine: 1 rank against 2, and what MPI's all-reduce costs.

    python benchmarks/distributed.py                 # 1 rank x 2 BLAS threads, 1 x 1, 2 ranks x 1
    python benchmarks/distributed.py --steps 100 --json /tmp/distributed.json

For each set-up it starts ``mpirun -n RANKS`` on this file (``--worker``), with RANKS processes
of THREADS BLAS threads each. Every rank measures, after warm-up steps:

- the all-reduce of float32 buffers of 4 KB to 16 MB (median of each size): the 4 KB time is the
  latency, the slope from 1 to 16 MB the cost per MB -- the two numbers benchmarks/README.md's
  model needs;
- per workload, in 5 interleaved rounds: steps on its own share of the global batch inside
  ``no_sync()`` (forward, backward and optimiser step timed apart: the compute a rank does, the
  all-reduce skipped), then DistributedDataParallel steps on the same share (compute + bucket
  copies + the all-reduce not hidden behind backward). Each figure is the median over rounds of
  the round's median, so a busy spell on the machine hits both alike.

Workloads: the digits MLP 64-256-128-10 (global batch 64) and W1, the MLP 784-512-512-10 of
benchmarks/problems.py (global batch 128), both SGD in float32. Rank 0 prints JSON; the launcher
prints a table. Nothing is asserted: on a 2-core machine shared with other work, read the
numbers as a snapshot (the spread between ranks is printed too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SETUPS = [(1, 2), (1, 1), (2, 1)]          # (ranks, BLAS threads per rank) on a 2-core machine
SIZES_MB = [0.004, 0.25, 1.0, 4.0, 16.0]    # 4 KB: the latency; 1-16 MB: the bandwidth
ROUNDS = 5
GLOBAL_BATCH = {"digits": 64, "W1": 128}


def launch(args) -> list:
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    from chainrule.distributed.launch import mpirun_command

    records = []
    for ranks, threads in SETUPS:
        environment = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        command = mpirun_command(ranks, [sys.executable, os.path.abspath(__file__), "--worker",
                                         "--steps", str(args.steps), "--threads", str(threads)])
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        line = next(text for text in done.stdout.splitlines() if text.startswith("{"))
        records.append(json.loads(line))
    return records


def print_table(records: list) -> None:
    print("all-reduce of float32 buffers (2 ranks): "
          + ", ".join(f"{float(mb):g} MB {ms:.2f} ms" for mb, ms in records[-1]["allreduce_ms"].items())
          + f"; fit: {records[-1]['latency_ms']:.3f} ms + {records[-1]['ms_per_mb']:.3f} ms/MB")
    print(f"{'set-up':<18}{'workload':<9}{'batch/rank':>11}{'compute ms':>12}{'fwd/bwd/opt ms':>18}"
          f"{'DDP ms':>9}{'spread':>8}{'samples/s':>11}{'grads MB':>10}")
    for record in records:
        setup = f"{record['ranks']} rank(s) x {record['threads']} thr"
        for name, w in record["workloads"].items():
            split = "/".join(f"{w[k]:.2f}" for k in ("forward_ms", "backward_ms", "optimizer_ms"))
            print(f"{setup:<18}{name:<9}{w['batch_per_rank']:>11}{w['compute_ms']:>12.2f}{split:>18}"
                  f"{w['ddp_ms']:>9.2f}{w['ddp_spread']:>8.0%}{w['samples_per_s']:>11,.0f}{w['grad_mb']:>10.2f}")


# --- the model: N machines, each with its own share --------------------------------------------
LINKS = {   # name -> (latency ms, ms per MB); the first is filled from the measurement
    "this machine": None,
    "10 GbE (assumed)": (0.05, 0.8),
    "100 Gb/s InfiniBand (assumed)": (0.005, 0.08),
}


def ring_allreduce_ms(mb: float, ranks: int, latency_ms: float, ms_per_mb: float) -> float:
    """A ring all-reduce: 2(N-1) steps, each a message of S/N: 2(N-1) latency + 2(N-1)/N S beta."""
    return 2 * (ranks - 1) * latency_ms + 2 * (ranks - 1) / ranks * mb * ms_per_mb


def print_model(records: list) -> None:
    """Weak scaling (each rank keeps the 1-rank batch), no overlap credited: step = compute + all-reduce."""
    single = next(r for r in records if r["ranks"] == 1 and r["threads"] == 1)
    pair = next(r for r in records if r["ranks"] == 2)
    LINKS["this machine"] = (pair["latency_ms"], pair["ms_per_mb"])
    print("\nmodel, N ranks each on the 1-rank batch (compute from '1 rank x 1 thr'): "
          "efficiency = compute / (compute + ring all-reduce), samples/s = N x batch / step")
    for name, w in single["workloads"].items():
        for link, (latency, per_mb) in LINKS.items():
            cells = []
            for ranks in (2, 4, 8, 16):
                reduce_ms = ring_allreduce_ms(w["grad_mb"], ranks, latency, per_mb)
                step = w["compute_ms"] + reduce_ms
                rate = ranks * w["batch_per_rank"] / step * 1000
                cells.append(f"N={ranks}: {w['compute_ms'] / step:.0%} {rate:,.0f}/s")
            print(f"  {name:<7}{link:<31}" + "  ".join(cells))


# --- one rank ---------------------------------------------------------------------------------
def median_ms(times: list) -> float:
    return 1000 * statistics.median(times)


def allreduce_profile(dist, cr, reps: int) -> dict:
    profile = {}
    for mb in SIZES_MB:
        buffer = cr.zeros(int(mb * 2**20 / 4))
        times = []
        for rep in range(reps + 2):
            dist.barrier()
            started = time.perf_counter()
            dist.all_reduce(buffer)
            if rep >= 2:
                times.append(time.perf_counter() - started)
        profile[mb] = median_ms(times)
    return profile


def fit(profile: dict) -> tuple:
    """(latency ms, ms per MB): the smallest buffer's time, and the slope from 1 MB to 16 MB."""
    return profile[SIZES_MB[0]], (profile[16.0] - profile[1.0]) / 15.0


def build(name: str, cr, nn):
    """(model, inputs, labels) of the global batch, the same on every rank."""
    import problems

    from chainrule.data import load_digits

    if name == "digits":
        cr.manual_seed(0)
        X, y = load_digits()
        model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        return model, X[:GLOBAL_BATCH[name]], y[:GLOBAL_BATCH[name]]
    spec = problems.w1(GLOBAL_BATCH[name])
    layers = [nn.Linear(w.shape[1], w.shape[0]) for w, _ in spec["layers"]]
    for layer, (weight, bias) in zip(layers, spec["layers"]):
        layer.weight._data[...] = weight
        layer.bias._data[...] = bias
    model = nn.Sequential(layers[0], nn.ReLU(), layers[1], nn.ReLU(), layers[2])
    return model, cr.tensor(spec["x"]), cr.tensor(spec["labels"])


def time_steps(model, x, y, steps: int, nn, optimizer, synchronised: bool) -> dict:
    """Median seconds of forward, backward, optimiser step and the whole step (DDP's no_sync()
    around the step when not ``synchronised``)."""
    parts = {"forward": [], "backward": [], "optimizer": [], "step": []}
    for step in range(steps + 3):
        with contextlib.nullcontext() if synchronised else model.no_sync():
            started = time.perf_counter()
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            forward_done = time.perf_counter()
            loss.backward()
            backward_done = time.perf_counter()
            optimizer.step()
            loss.item()
            finished = time.perf_counter()
        if step >= 3:
            parts["forward"].append(forward_done - started)
            parts["backward"].append(backward_done - forward_done)
            parts["optimizer"].append(finished - backward_done)
            parts["step"].append(finished - started)
    return {name: statistics.median(times) for name, times in parts.items()}


def interleaved(ddp, x, y, steps: int, dist, nn, optim) -> tuple:
    """(compute, distributed): per part, the median over ROUNDS of each round's median, in ms."""
    optimizer = optim.SGD(ddp.parameters(), lr=0.01)
    rounds = {"compute": [], "distributed": []}
    for _round in range(ROUNDS):
        for kind in rounds:
            dist.barrier()
            rounds[kind].append(time_steps(ddp, x, y, steps, nn, optimizer, kind == "distributed"))
    return tuple({part: 1000 * statistics.median(r[part] for r in rounds[kind]) for part in rounds[kind][0]}
                 for kind in ("compute", "distributed"))


def worker(args) -> None:
    sys.path.insert(0, HERE)
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn, optim

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    profile = allreduce_profile(dist, cr, reps=max(5, args.steps // 4))
    latency, slope = fit(profile)
    record = {"ranks": world, "threads": args.threads, "allreduce_ms": profile, "latency_ms": latency,
              "ms_per_mb": slope, "workloads": {}}
    for name in GLOBAL_BATCH:
        model, X, y = build(name, cr, nn)
        share = GLOBAL_BATCH[name] // world
        x_rank, y_rank = X[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]
        steps = args.steps * (4 if name == "digits" else 1) // ROUNDS
        ddp = nn.parallel.DistributedDataParallel(model)
        compute, distributed = interleaved(ddp, x_rank, y_rank, steps, dist, nn, optim)
        everyone = [cr.zeros(1, dtype=cr.float64) for _ in range(world)]
        dist.all_gather(everyone, cr.tensor([distributed["step"]], dtype=cr.float64))
        step_ms = [t.item() for t in everyone]
        record["workloads"][name] = {
            "batch_per_rank": share, "compute_ms": compute["step"], "forward_ms": compute["forward"],
            "backward_ms": compute["backward"], "optimizer_ms": compute["optimizer"],
            "ddp_ms": max(step_ms), "ddp_spread": (max(step_ms) - min(step_ms)) / max(step_ms),
            "samples_per_s": GLOBAL_BATCH[name] / (max(step_ms) / 1000),
            "grad_mb": sum(p._data.nbytes for p in model.parameters()) / 2**20,
        }
    if rank == 0:
        print(json.dumps(record), flush=True)
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100,
                        help="timed W1 steps per set-up, over 5 rounds (digits: 4x as many)")
    parser.add_argument("--json", default=None, help="also write the records here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    records = launch(args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(records, file, indent=1)
    print_table(records)
    print_model(records)


if __name__ == "__main__":
    main()
