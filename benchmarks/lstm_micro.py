"""Why nn.LSTM runs a whole sequence as one graph node: it against the same LSTM written as plain
ops, one step at a time (u = x W_ih^T + b_ih for all steps, then per step u[t] + h W_hh^T + b_hh,
chunk, sigmoid/tanh, c and h as graph nodes), forward + backward, batch 32, hidden 128, float32.

    python benchmarks/lstm_micro.py [--steps 64 256] [--repeat 5]

The per-step version records ~15 nodes a step, and each u[t]'s backward is a full-size (T, B, 4H)
array, so its backward grows as T^2; the one-node version grows as T. Prints the median time
and the graph's size for each length. PyTorch is timed by ``run.py --workloads LSTM``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def per_step_ops(lstm: nn.LSTM, x: cr.Tensor) -> cr.Tensor:
    u = F.linear(x, lstm.weight_ih_l0, lstm.bias_ih_l0)
    h = c = cr.zeros(x.shape[1], lstm.hidden_size)
    outputs = []
    for t in range(x.shape[0]):
        i, f, g, o = (u[t] + F.linear(h, lstm.weight_hh_l0, lstm.bias_hh_l0)).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outputs.append(h)
    return cr.stack(outputs)


def one_node(lstm: nn.LSTM, x: cr.Tensor) -> cr.Tensor:
    return lstm(x)[0]


def graph_size(root) -> int:
    seen, stack = set(), [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) not in seen and tensor._prim is not None:
            seen.add(id(tensor))
            stack.extend(tensor._inputs())
    return len(seen)


def measure(run, lstm, x, repeat: int) -> tuple[float, int]:
    times, nodes = [], 0
    for _ in range(repeat + 1):   # the first is a warm-up
        started = time.perf_counter()
        loss = (run(lstm, x) ** 2).mean()
        nodes = graph_size(loss)
        loss.backward()
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times[1:]), nodes


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    cr.manual_seed(0)
    lstm = nn.LSTM(128, 128)
    for steps in args.steps:
        x = cr.randn(steps, 32, 128)
        for name, run in (("one node per sequence", one_node), ("plain ops per step", per_step_ops)):
            ms, nodes = measure(run, lstm, x, args.repeat)
            print(f"T={steps:5d}  {name:22s} {ms:9.1f} ms forward+backward   {nodes:6d} graph nodes")


if __name__ == "__main__":
    main()
