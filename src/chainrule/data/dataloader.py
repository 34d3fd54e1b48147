"""DataLoader: walk a dataset in mini-batches, optionally shuffled, reproducibly."""

from __future__ import annotations

import math

from .. import backend as B
from ..backend import np
from ..tensor import Tensor
from .dataset import TensorDataset


def default_collate(examples: list):
    """Stack a list of examples into one batch, keeping their structure.

    Tensors / arrays are stacked along a new first dimension; Python ints become an int64
    tensor and floats a float64 tensor (as in PyTorch); tuples and lists are collated field
    by field (returning a list), dicts key by key; strings and anything else stay a list.
    """
    first = examples[0]
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([e._data for e in examples]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor._wrap(np.stack(examples))
    if isinstance(first, bool):
        return Tensor._wrap(np.array(examples, dtype=B.bool_))
    if isinstance(first, int):
        return Tensor._wrap(np.array(examples, dtype=B.int64))
    if isinstance(first, float):
        return Tensor._wrap(np.array(examples, dtype=B.float64))
    if isinstance(first, dict):
        return {key: default_collate([e[key] for e in examples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(e) != len(first) for e in examples):
            raise ValueError("default_collate: examples in a batch have different numbers of fields")
        return [default_collate(list(field)) for field in zip(*examples)]
    return list(examples)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` examples.

        loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, seed=0)
        for epoch in range(10):
            for x_batch, y_batch in loader:      # a new order each epoch
                ...

    shuffle     draw a new random order at the start of every pass
    seed        makes the sequence of orders reproducible (a generator of its own, created
                once, so epoch 1, 2, ... differ but repeat run to run); without it the
                shuffling uses chainrule's global generator (``cr.manual_seed``)
    drop_last   skip the last batch when it is smaller than ``batch_size``
    collate_fn  turns a list of examples into a batch (``default_collate`` by default)

    ``len(loader)`` is the number of batches per pass.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, collate_fn=None):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, "
                            f"got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.collate_fn = collate_fn
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        count = len(self.dataset)
        if self.drop_last:
            return count // self.batch_size
        return math.ceil(count / self.batch_size)

    def _order(self) -> np.ndarray:
        count = len(self.dataset)
        if not self.shuffle:
            return np.arange(count)
        generator = self._generator if self._generator is not None else B.rng()
        return generator.permutation(count)

    def __iter__(self):
        order = self._order()
        stop = len(self) * self.batch_size
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        collate = self.collate_fn or default_collate
        for start in range(0, min(stop, len(order)), self.batch_size):
            batch_indices = order[start:start + self.batch_size]
            if fast:   # one fancy-indexing gather per tensor instead of a Python loop per example
                yield [Tensor._wrap(t._data[batch_indices]) for t in self.dataset.tensors]
            else:
                yield collate([self.dataset[int(i)] for i in batch_indices])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
                f"seed={self.seed})")
