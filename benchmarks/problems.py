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
    W6  the small GPT of "Let's build GPT" (gpt_model.py): vocab 65, context 64, 2 blocks of
        4-head attention (a Linear per head for key, query, value), width 128, ReLU feed-forward
        512, batch 16, cross-entropy on every position, AdamW
"""

from __future__ import annotations

import math
import zlib

import numpy as np

SEED = 0

LEARNING_RATE = {"W1": 0.01, "W2": 0.05, "W3": 0.01, "W4": 0.01, "W6": 1e-3}


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


def gpt_weight(name: str, shape: tuple) -> np.ndarray:
    """W6's initial value of the parameter ``name``, by name (so the order in which a library
    lists its parameters does not matter): GPT-2's init, N(0, 0.02) for weights and embeddings,
    zeros for biases, ones for LayerNorm scales (ln1, ln2, ln_f)."""
    if name.endswith("bias"):
        return np.zeros(shape, np.float32)
    if any(part.startswith("ln") for part in name.split(".")):
        return np.ones(shape, np.float32)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return (0.02 * rng.standard_normal(shape)).astype(np.float32)


def w6(batch: int = 16) -> dict:
    rng = np.random.default_rng(SEED)
    vocab, block = 65, 64
    tokens = rng.integers(0, vocab, size=(batch, block + 1)).astype(np.int64)
    return {"vocab": vocab, "block": block, "n_embd": 128, "n_head": 4, "n_layer": 2,
            "idx": np.ascontiguousarray(tokens[:, :-1]), "targets": np.ascontiguousarray(tokens[:, 1:]),
            "weight": gpt_weight, "lr": LEARNING_RATE["W6"]}


def make(workload: str, depth: int | None = None) -> dict:
    """The problem for a workload name ('W1', 'W2', 'W3', 'W4', 'W6'; W3 needs ``depth``)."""
    if workload == "W3":
        return w3(depth or 5000)
    return {"W1": w1, "W2": w2, "W4": w4, "W6": w6}[workload]()
