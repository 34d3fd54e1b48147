"""The benchmark problems as plain NumPy arrays: the same data and initial weights for every peer.

Every peer builds its network from these arrays (copied in), so a step does the same arithmetic
everywhere and the first loss values can be compared. Weights use PyTorch's layout: a linear
layer's weight is (out_features, in_features), a conv weight (out_channels, in_channels, kh, kw),
and PyTorch's default initialisation range U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    W1  MLP 784-512-512-10, ReLU, cross-entropy, batch 128, float32, SGD
    W2  MLP 2-16-16-1, ReLU, mean squared error on 100 two-moons points (labels -1/+1), SGD
    W3  deep scalar chain x <- tanh(a * x + b), `depth` times; loss = final x; SGD on a, b
    W4  CNN: batch 32 of 1x28x28, conv 3x3 -> 8 channels (no padding), ReLU, max-pool 2,
        linear 8*13*13 -> 10, cross-entropy, SGD
    LSTM  one LSTM layer 128 -> 128 over 64 steps, batch 32, a linear head 128 -> 16 at every step,
          cross-entropy over all steps, SGD (PyTorch's parameter names and init range 1/sqrt(hidden))
    W6  GPT-style Transformer: token + position embeddings, 2 pre-norm TransformerEncoderLayers
        (d_model 128, 4 heads, feed-forward 512, ReLU, no dropout) under a causal mask, LayerNorm,
        linear head to 65 tokens; batch 32 of 64 tokens, cross-entropy, AdamW
    GPT the small GPT of "Let's build GPT" (gpt_model.py): vocab 65, context 64, 2 blocks of
        4-head attention (a Linear per head for key, query, value), width 128, ReLU feed-forward
        512, batch 16, cross-entropy on every position, AdamW
"""

from __future__ import annotations

import math
import zlib

import numpy as np

SEED = 0

LEARNING_RATE = {"W1": 0.01, "W2": 0.05, "W3": 0.01, "W4": 0.01, "LSTM": 0.1, "W6": 1e-3, "GPT": 1e-3,
                 "M1D": 1e-2}


def _uniform_layer(rng, fan_in: int, shape: tuple) -> np.ndarray:
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def _linear_layers(rng, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(weight (out, in), bias (out,)), ...] for consecutive layer sizes."""
    return [(_uniform_layer(rng, n_in, (n_out, n_in)), _uniform_layer(rng, n_in, (n_out,)))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def two_moons(n: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: points (n, 2) float32 and labels (n,) in {-1, +1}."""
    upper = n // 2
    angles = np.concatenate([np.linspace(0, math.pi, upper), np.linspace(0, math.pi, n - upper)])
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points[upper:] = np.stack([1 - np.cos(angles[upper:]), 0.5 - np.sin(angles[upper:])], axis=1)
    points += rng.normal(scale=noise, size=points.shape)
    labels = np.where(np.arange(n) < upper, -1.0, 1.0)
    return points.astype(np.float32), labels.astype(np.float32)


def w1(batch: int = 128) -> dict:
    rng = np.random.default_rng(SEED)
    return {
        "x": rng.standard_normal((batch, 784)).astype(np.float32),
        "labels": rng.integers(0, 10, size=batch).astype(np.int64),
        "layers": _linear_layers(rng, [784, 512, 512, 10]),
        "lr": LEARNING_RATE["W1"],
    }


def w2(points: int = 100) -> dict:
    rng = np.random.default_rng(SEED)
    x, y = two_moons(points, 0.1, rng)
    return {"x": x, "y": y, "layers": _linear_layers(rng, [2, 16, 16, 1]), "lr": LEARNING_RATE["W2"]}


def w3(depth: int) -> dict:
    return {"depth": int(depth), "x0": 0.3, "a": 0.9, "b": 0.1, "lr": LEARNING_RATE["W3"]}


def w4(batch: int = 32) -> dict:
    rng = np.random.default_rng(SEED)
    return {
        "x": rng.standard_normal((batch, 1, 28, 28)).astype(np.float32),
        "labels": rng.integers(0, 10, size=batch).astype(np.int64),
        "conv_weight": _uniform_layer(rng, 9, (8, 1, 3, 3)),
        "conv_bias": _uniform_layer(rng, 9, (8,)),
        "fc_weight": _uniform_layer(rng, 8 * 13 * 13, (10, 8 * 13 * 13)),
        "fc_bias": _uniform_layer(rng, 8 * 13 * 13, (10,)),
        "lr": LEARNING_RATE["W4"],
    }


def lstm(steps: int = 64, batch: int = 32, features: int = 128, hidden: int = 128, classes: int = 16) -> dict:
    rng = np.random.default_rng(SEED)
    shapes = {"weight_ih_l0": (4 * hidden, features), "weight_hh_l0": (4 * hidden, hidden),
              "bias_ih_l0": (4 * hidden,), "bias_hh_l0": (4 * hidden,)}
    return {
        "x": rng.standard_normal((steps, batch, features)).astype(np.float32),
        "labels": rng.integers(0, classes, size=steps * batch).astype(np.int64),
        "lstm": {name: _uniform_layer(rng, hidden, shape) for name, shape in shapes.items()},
        "head": _linear_layers(rng, [hidden, classes])[0],
        "lr": LEARNING_RATE["LSTM"],
    }


def w6(batch: int = 32, length: int = 64, vocab: int = 65) -> dict:
    rng = np.random.default_rng(SEED)
    return {
        "tokens": rng.integers(0, vocab, size=(batch, length)).astype(np.int64),
        "targets": rng.integers(0, vocab, size=(batch, length)).astype(np.int64),
        "vocab": vocab, "length": length, "d_model": 128, "nhead": 4, "dim_feedforward": 512, "layers": 2,
        "initial_value": w6_initial_value,
        "lr": LEARNING_RATE["W6"],
    }


def w6_initial_value(name: str, shape: tuple) -> np.ndarray:
    """The starting value of the parameter called ``name`` in PyTorch's state_dict naming (the same
    in every peer): LayerNorm weights 1, biases 0, every matrix U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    from a generator seeded by the name."""
    if len(shape) == 1:
        fill = 1.0 if "norm" in name and name.endswith("weight") else 0.0
        return np.full(shape, fill, dtype=np.float32)
    return _uniform_layer(np.random.default_rng(zlib.crc32(name.encode())), shape[1], shape)


def gpt_weight(name: str, shape: tuple) -> np.ndarray:
    """GPT's initial value of the parameter ``name``, by name (so the order in which a library
    lists its parameters does not matter): GPT-2's init, N(0, 0.02) for weights and embeddings,
    zeros for biases, ones for LayerNorm scales (ln1, ln2, ln_f)."""
    if name.endswith("bias"):
        return np.zeros(shape, np.float32)
    if any(part.startswith("ln") for part in name.split(".")):
        return np.ones(shape, np.float32)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return (0.02 * rng.standard_normal(shape)).astype(np.float32)


def gpt(batch: int = 16) -> dict:
    rng = np.random.default_rng(SEED)
    vocab, block = 65, 64
    tokens = rng.integers(0, vocab, size=(batch, block + 1)).astype(np.int64)
    return {"vocab": vocab, "block": block, "n_embd": 128, "n_head": 4, "n_layer": 2,
            "idx": np.ascontiguousarray(tokens[:, :-1]), "targets": np.ascontiguousarray(tokens[:, 1:]),
            "weight": gpt_weight, "lr": LEARNING_RATE["GPT"]}


# MNIST-1D (Greydanus 2020): 40-sample 1-D signals of ten digit templates, shifted, scaled, sheared,
# blurred and noised; 4,000 training examples. The paper's CNN: three Conv1d (25 channels, stride
# 2) with ReLU, then a linear layer, trained with Adam. Generated by the `mnist1d` package
# (pip install mnist1d; made locally, nothing downloaded), one batch of 100 as the benchmark's data.
M1D_CONVS = [(1, 25, 5, 2, 1), (25, 25, 3, 2, 1), (25, 25, 3, 2, 1)]   # in, out, kernel, stride, padding
M1D_LENGTH, M1D_FLAT = 40, 25 * 5


def m1d(batch: int = 100) -> dict:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        from peers import Infeasible  # reported as skipped, with the reason, like a peer's
        raise Infeasible("M1D needs the mnist1d package (pip install mnist1d)") from None
    data = make_dataset(get_dataset_args())   # the package's default arguments, its own seed
    rng = np.random.default_rng(SEED)
    rows = rng.choice(len(data["x"]), size=batch, replace=False)
    convs = [(_uniform_layer(rng, cin * k, (cout, cin, k)), _uniform_layer(rng, cin * k, (cout,)))
             for cin, cout, k, _, _ in M1D_CONVS]
    return {
        "x": data["x"][rows, None, :].astype(np.float32),     # (batch, 1 channel, 40)
        "labels": data["y"][rows].astype(np.int64),
        "convs": convs,
        "fc": _linear_layers(rng, [M1D_FLAT, 10])[0],
        "lr": LEARNING_RATE["M1D"],
    }


def make(workload: str, depth: int | None = None) -> dict:
    """The problem for a workload name ('W1', 'W2', 'W3', 'W4', 'M1D', 'LSTM', 'W6', 'GPT'; W3 needs
    ``depth``)."""
    if workload == "W3":
        return w3(depth or 5000)
    return {"W1": w1, "W2": w2, "W4": w4, "M1D": m1d, "LSTM": lstm, "W6": w6, "GPT": gpt}[workload]()
