"""The playground's data: generated 2-D point sets in the box [-6, 6]², and the input features.

Classification sets have labels 0/1; regression sets have targets in [-1, 1]. ``noise`` is a
percentage (0-50) of the set's natural spread. Everything is drawn from a seeded generator,
so the same settings always give the same points (a URL reproduces a set-up exactly).

These are drawn in the playground's own coordinates (the page plots the box [-6, 6]²), which
is why they live here rather than reusing ``chainrule.data``'s unit-scale generators.
"""

from __future__ import annotations

import numpy as np

BOX = 6.0


def _circle(rng, n, noise):
    radius = 5.0
    inner = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, n - inner)])
    angle = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    points += rng.uniform(-radius, radius, (n, 2)) * noise
    # the label follows the ring the point was drawn from, noise or not
    labels = np.concatenate([np.ones(inner), np.zeros(n - inner)]).astype(np.float32)
    return points, labels


def _xor(rng, n, noise):
    points = rng.uniform(-5, 5, (n, 2))
    points += np.sign(points) * 0.3  # a small gap along the axes
    labels = (points[:, 0] * points[:, 1] >= 0).astype(np.float32)
    points += rng.uniform(-5, 5, (n, 2)) * noise
    return points, labels


def _gauss(rng, n, noise):
    spread = 0.5 + 3.5 * noise
    half = n // 2
    positive = rng.normal(2.0, spread, (half, 2))
    negative = rng.normal(-2.0, spread, (n - half, 2))
    points = np.concatenate([positive, negative])
    labels = np.concatenate([np.ones(half), np.zeros(n - half)]).astype(np.float32)
    return points, labels


def _spiral(rng, n, noise):
    half = n // 2
    points, labels = [], []
    for label, turn in ((1.0, 0.0), (0.0, np.pi)):
        count = half if label else n - half
        t = np.linspace(0, 1, count)
        r = 5.0 * t
        angle = 1.75 * t * 2 * np.pi + turn
        arm = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        arm += rng.uniform(-1, 1, (count, 2)) * noise * 2.5
        points.append(arm)
        labels.append(np.full(count, label))
    return np.concatenate(points), np.concatenate(labels).astype(np.float32)


def _moons(rng, n, noise):
    half = n // 2
    upper_t = rng.uniform(0, np.pi, half)
    lower_t = rng.uniform(0, np.pi, n - half)
    upper = np.stack([np.cos(upper_t), np.sin(upper_t)], axis=1)
    lower = np.stack([1 - np.cos(lower_t), 0.5 - np.sin(lower_t)], axis=1)
    points = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 3.2
    points += rng.normal(0, 1, (n, 2)) * noise * 2.0
    labels = np.concatenate([np.ones(half), np.zeros(n - half)]).astype(np.float32)
    return points, labels


def _plane(rng, n, noise):
    points = rng.uniform(-BOX, BOX, (n, 2))
    targets = (points[:, 0] + points[:, 1]) / (2 * BOX)
    targets += rng.uniform(-1, 1, n) * noise
    return points, np.clip(targets, -1, 1).astype(np.float32)


def _waves(rng, n, noise):
    points = rng.uniform(-BOX, BOX, (n, 2))
    targets = np.sin(points[:, 0] * 0.6) * np.cos(points[:, 1] * 0.4)
    targets += rng.uniform(-1, 1, n) * noise
    return points, np.clip(targets, -1, 1).astype(np.float32)


GENERATORS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons,
              "plane": _plane, "waves": _waves}


class Dataset:
    """Points and labels split into train and test parts (``*_points`` are raw x1, x2)."""

    def __init__(self, name: str, n_samples: int, noise_percent: int, train_percent: int, seed: int):
        rng = np.random.default_rng(seed)
        points, labels = GENERATORS[name](rng, n_samples, noise_percent / 100.0)
        points = np.clip(points, -BOX, BOX).astype(np.float32)
        order = rng.permutation(n_samples)
        n_train = max(1, min(n_samples - 1, round(n_samples * train_percent / 100)))
        train, test = order[:n_train], order[n_train:]
        self.train_points, self.train_labels = points[train], labels[train].astype(np.float32)
        self.test_points, self.test_labels = points[test], labels[test].astype(np.float32)


FEATURE_FUNCTIONS = {
    "x1": lambda x1, x2: x1 / 3,
    "x2": lambda x1, x2: x2 / 3,
    "x1^2": lambda x1, x2: (x1 / 3) ** 2,
    "x2^2": lambda x1, x2: (x2 / 3) ** 2,
    "x1x2": lambda x1, x2: x1 * x2 / 9,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}

# The same formulas as Python source, for the exported training script.
FEATURE_SOURCE = {
    "x1": "x1 / 3", "x2": "x2 / 3", "x1^2": "(x1 / 3) ** 2", "x2^2": "(x2 / 3) ** 2",
    "x1x2": "x1 * x2 / 9", "sin_x1": "np.sin(x1)", "sin_x2": "np.sin(x2)",
}

FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂",
                  "sin_x1": "sin x₁", "sin_x2": "sin x₂"}


def features(points: np.ndarray, names) -> np.ndarray:
    """The chosen input features of raw points (n, 2) as an (n, len(names)) float32 array."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([FEATURE_FUNCTIONS[name](x1, x2) for name in names], axis=1).astype(np.float32)


def grid(resolution: int) -> np.ndarray:
    """Cell centres of a resolution × resolution grid over the box, row 0 at the top (x2 = +6)."""
    centres = (np.arange(resolution) + 0.5) / resolution * 2 * BOX - BOX
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)
