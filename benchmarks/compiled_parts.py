"""Where a compiled W2 step's time goes: each part of the step timed alone.

    OPENBLAS_NUM_THREADS=1 python benchmarks/compiled_parts.py

W2 (the 2-16-16-1 MLP on 100 points) is overhead-bound, so a compiled step's distance from the
hand-written NumPy limit is Python around the generated code, not arithmetic. This times, in one
process (min over 9 repeats of 3,000 calls each): the limit's whole step; the compiled step; the
plan's generated forward and backward alone; the compiled call; the call plus the eager loss; that
plus ``backward()``; the fused SGD step; and, for scale, the backward of a two-op eager graph.
It asserts nothing; benchmarks/README.md discusses the figures.
"""

from __future__ import annotations

import time

import numpy as np
import problems
from peers import numpy_limit

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.optim import SGD


def best_us(fn, calls: int = 3000, repeats: int = 9) -> float:
    for _ in range(200):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def main() -> None:
    problem = problems.w2()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    x, y = cr.from_numpy(problem["x"]), cr.from_numpy(problem["y"])
    compiled = cr.compile(model)
    optimizer = SGD(model.parameters(), lr=problem["lr"], fused=True)

    def step():
        optimizer.zero_grad()
        loss = F.mse_loss(compiled(x)[:, 0], y)
        loss.backward()
        optimizer.step()
        return loss.item()

    def call_loss_backward():
        optimizer.zero_grad()
        F.mse_loss(compiled(x)[:, 0], y).backward()

    for _ in range(5):
        step()
    plan = compiled.plans()[0]
    saved = {}
    upstream = [np.ones((len(problem["x"]), 1), np.float32)]

    def generated_forward():
        saved["values"] = plan.forward([x._data], plan.refs)

    generated_forward()

    def generated_backward():
        plan.backward(upstream, saved["values"][1], plan.leaves.none)

    w = cr.randn(100, 1, requires_grad=True)

    def two_op_backward():
        w.grad = None
        (w * 2.0).sum().backward()

    parts = [("NumPy limit, whole step", numpy_limit.build("W2", problem)),
             ("compiled step", step),
             ("generated forward", generated_forward),
             ("generated backward", generated_backward),
             ("compiled call", lambda: compiled(x)),
             ("call + eager loss", lambda: F.mse_loss(compiled(x)[:, 0], y)),
             ("call + loss + backward", call_loss_backward),
             ("fused SGD step", optimizer.step),
             ("eager (w * 2).sum() fwd+bwd", two_op_backward)]
    for name, fn in parts:
        print(f"{name:30s} {best_us(fn):8.1f} us")


if __name__ == "__main__":
    main()
