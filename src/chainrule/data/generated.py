"""Small 2-D classification problems, generated on the spot (no download).

Each ``make_*`` returns ``(X, y)``: X a float32 Tensor of shape (N, 2), y an int64 Tensor of
shape (N,) holding class labels 0..K-1. ``noise`` is the standard deviation of Gaussian noise
added to the points; ``seed`` makes the result reproducible (without it chainrule's global
generator is used, so ``cr.manual_seed`` also fixes it). Examples come shuffled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import ArgumentError
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def _generator(seed: int | None) -> np.random.Generator:
    return B.rng() if seed is None else np.random.default_rng(seed)


def _split(n_samples: int, n_classes: int) -> list[int]:
    """How many points each class gets: as even as possible, earlier classes first."""
    if int(n_samples) != n_samples or n_samples < n_classes:
        raise ArgumentError(f"n_samples must be an integer >= the number of classes ({n_classes}), "
                         f"got {n_samples!r}")
    base, extra = divmod(int(n_samples), n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def _finish(points: np.ndarray, labels: np.ndarray, noise: float, generator: Any,
            shuffle: bool) -> tuple[Tensor, Tensor]:
    if noise < 0:
        raise ArgumentError(f"noise is a standard deviation and must be >= 0, got {noise}")
    if noise:
        points = points + generator.normal(scale=noise, size=points.shape)
    if shuffle:
        order = generator.permutation(len(labels))
        points, labels = points[order], labels[order]
    return Tensor(points.astype(B.float32)), Tensor(labels.astype(B.int64))


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | None = None,
               shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles: class 0 on (cos t, sin t), class 1 on
    (1 - cos t, 1/2 - sin t), for t evenly spaced in [0, pi]."""
    generator = _generator(seed)
    n_upper, n_lower = _split(n_samples, 2)
    t_upper, t_lower = np.linspace(0, math.pi, n_upper), np.linspace(0, math.pi, n_lower)
    points = np.concatenate([np.stack([np.cos(t_upper), np.sin(t_upper)], 1),
                             np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], 1)])
    labels = np.repeat([0, 1], [n_upper, n_lower])
    return _finish(points, labels, noise, generator, shuffle)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.8, seed: int | None = None,
                 shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """A circle of radius 1 (class 0) around a circle of radius ``factor`` (class 1)."""
    if not 0 < factor < 1:
        raise ArgumentError(f"make_circles: factor is the inner radius, in (0, 1); got {factor}")
    generator = _generator(seed)
    n_outer, n_inner = _split(n_samples, 2)
    rings = []
    for count, radius in ((n_outer, 1.0), (n_inner, factor)):
        angle = np.linspace(0, 2 * math.pi, count, endpoint=False)
        rings.append(radius * np.stack([np.cos(angle), np.sin(angle)], 1))
    labels = np.repeat([0, 1], [n_outer, n_inner])
    return _finish(np.concatenate(rings), labels, noise, generator, shuffle)


def make_spiral(n_samples: int = 100, noise: float = 0.0, seed: int | None = None, n_classes: int = 2,
                turns: float = 1.0, shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """``n_classes`` arms winding out from the centre: arm k has points at radius r in (0, 1]
    and angle 2 pi (k / n_classes + turns * r)."""
    generator = _generator(seed)
    arms = []
    for arm, count in enumerate(_split(n_samples, n_classes)):
        radius = np.linspace(0, 1, count + 1)[1:]
        angle = 2 * math.pi * (arm / n_classes + turns * radius)
        arms.append(radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1))
    labels = np.repeat(np.arange(n_classes), _split(n_samples, n_classes))
    return _finish(np.concatenate(arms), labels, noise, generator, shuffle)


def make_xor(n_samples: int = 100, noise: float = 0.0, seed: int | None = None,
             shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Points uniform in [-1, 1]^2, labelled 1 where exactly one coordinate is positive
    (the XOR of the signs), before noise is added; no line separates the classes."""
    generator = _generator(seed)
    n_samples = sum(_split(n_samples, 1))
    points = generator.uniform(-1, 1, size=(n_samples, 2))
    labels = ((points[:, 0] > 0) != (points[:, 1] > 0)).astype(np.int64)
    return _finish(points, labels, noise, generator, shuffle)


def make_gaussians(n_samples: int = 100, noise: float = 0.5, seed: int | None = None, n_classes: int = 2,
                   centers: Sequence[Sequence[float]] | np.ndarray | None = None, radius: float = 2.0,
                   shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Gaussian blobs of standard deviation ``noise``, one per class, centred at ``centers``
    (a (K, 2) array) or evenly around a circle of ``radius``."""
    generator = _generator(seed)
    if centers is None:
        angle = 2 * math.pi * np.arange(n_classes) / n_classes
        centers = radius * np.stack([np.cos(angle), np.sin(angle)], 1)
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2:
        raise ArgumentError(f"make_gaussians: centers must have shape (n_classes, 2), got {centers.shape}")
    counts = _split(n_samples, len(centers))
    points = np.repeat(centers, counts, axis=0)
    labels = np.repeat(np.arange(len(centers)), counts)
    return _finish(points, labels, noise, generator, shuffle)


def train_test_split(X: Tensor | np.ndarray, y: Tensor | np.ndarray, test_size: float = 0.25,
                     seed: int | None = None, shuffle: bool = True) -> tuple[Any, Any, Any, Any]:
    """Split examples into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    test_size  a fraction in (0, 1) (the test set gets ceil(fraction * N) examples) or a count
    Tensors come back as Tensors, arrays as arrays.
    """
    count = len(X)
    if len(y) != count:
        raise ArgumentError(f"train_test_split: X has {count} examples but y has {len(y)}")
    if isinstance(test_size, float):
        if not 0 < test_size < 1:
            raise ArgumentError(f"train_test_split: a fractional test_size must be in (0, 1), got "
                                f"{test_size}")
        n_test = math.ceil(test_size * count)
    else:
        n_test = int(test_size)
    if not 0 < n_test < count:
        raise ArgumentError(f"train_test_split: test_size={test_size!r} leaves no train or no test examples "
                         f"out of {count}")
    order = _generator(seed).permutation(count) if shuffle else np.arange(count)
    test_index, train_index = order[:n_test], order[n_test:]

    def take(data: Tensor | np.ndarray, index: np.ndarray) -> Any:
        if isinstance(data, Tensor):
            return Tensor._wrap(data._data[index])
        return np.asarray(data)[index]

    return take(X, train_index), take(X, test_index), take(y, train_index), take(y, test_index)
