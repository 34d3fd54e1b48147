"""Micro-benchmark of W4's convolution block: conv 3x3 (1 -> 8) + ReLU + max-pool 2 on a batch of
32 images of 1x28x28, forward + backward (the weight and bias gradients; the input needs none),
chainrule against PyTorch CPU in the same process (interleaved rounds, median ms).

    python benchmarks/conv_micro.py [--rounds 30] [--inner 20]

Not a test: it prints figures. The full-suite benchmark runs each library in its own process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import chainrule as cr


def chainrule_step(x, weight, bias, padding):
    weight.grad = bias.grad = None
    y = cr.max_pool2d(cr.relu(cr.conv2d(x, weight, bias, padding=padding)), 2)
    y.sum().backward()


def torch_step(torch, x, weight, bias, padding):
    weight.grad = bias.grad = None
    F = torch.nn.functional
    y = F.max_pool2d(F.relu(F.conv2d(x, weight, bias, padding=padding)), 2)
    y.sum().backward()


def timed(function, inner):
    start = time.perf_counter()
    for _ in range(inner):
        function()
    return (time.perf_counter() - start) / inner * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--inner", type=int, default=20)
    parser.add_argument("--only", choices=["chainrule", "torch"], help="time one library (own process)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    weight = (rng.standard_normal((8, 1, 3, 3)) / 3).astype(np.float32)
    bias = np.zeros(8, dtype=np.float32)
    try:
        if args.only == "chainrule":
            raise ImportError
        import torch
        torch.set_num_threads(os.cpu_count() or 1)
    except ImportError:
        torch = None
    print(f"W4 conv block: batch 32 of 1x28x28, conv 3x3x8 + relu + max_pool 2, fwd+bwd; "
          f"{os.cpu_count()} threads; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')}")
    for padding in (0, 1):
        ours = (cr.tensor(images), cr.tensor(weight, requires_grad=True), cr.tensor(bias, requires_grad=True))
        steps = {} if args.only == "torch" else {
            "chainrule": lambda ours=ours, padding=padding: chainrule_step(*ours, padding)}
        if torch is not None and args.only != "chainrule":
            theirs = (torch.tensor(images), torch.tensor(weight, requires_grad=True),
                      torch.tensor(bias, requires_grad=True))
            steps["torch"] = lambda theirs=theirs, padding=padding: torch_step(torch, *theirs, padding)
        times = {name: [] for name in steps}
        for function in steps.values():
            timed(function, 5)   # warm up
        for _ in range(args.rounds):
            for name, function in steps.items():   # interleaved A B A B
                times[name].append(timed(function, args.inner))
        medians = {name: statistics.median(values) for name, values in times.items()}
        line = ", ".join(f"{name} {ms:.3f} ms" for name, ms in medians.items())
        if len(medians) == 2:
            line += f", ratio chainrule/torch {medians['chainrule'] / medians['torch']:.2f}"
        print(f"padding={padding}: {line}")


if __name__ == "__main__":
    main()
