"""Samplers: the order in which a DataLoader visits a dataset's indices (PyTorch's classes).

    SequentialSampler(ds)                      0, 1, 2, ..., len(ds)-1
    RandomSampler(ds)                          a new permutation every pass
    RandomSampler(ds, replacement=True, num_samples=k)     k indices drawn uniformly, with repeats
    SubsetRandomSampler(indices)               a permutation of the given indices
    WeightedRandomSampler(weights, k)          k indices, index i with probability w_i / sum(w)
    BatchSampler(sampler, batch_size, drop_last)     groups any sampler's indices into lists

Every random draw takes a ``generator`` (a ``cr.Generator``) or, without one, chainrule's global
generator (seeded by ``cr.manual_seed``); a pass draws its whole order at once.
"""

from __future__ import annotations

import itertools
import numbers
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import ArgumentError
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence, Sized
    from typing import Any

    from ..backend import Generator


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or value <= 0:
        raise ArgumentError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


class Sampler:
    """Base class of samplers: define ``__iter__`` yielding indices (or lists of indices, for a
    batch sampler), and ``__len__`` if the DataLoader's ``len()`` should work."""

    def __init__(self, data_source: object = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__(self)")


class _OrderSampler(Sampler):
    """A sampler that draws a whole pass at once as an int64 array (``_order``); iterating yields
    its entries as ints. The DataLoader slices that array into batches without a Python loop."""

    def _order(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        return iter(self._order().tolist())


def whole_order(sampler: Any) -> np.ndarray | None:
    """One pass of ``sampler`` as an int64 array, drawn now; None if it only yields one by one
    (any sampler whose ``__iter__`` is not one of chainrule's array-drawing ones)."""
    if type(sampler).__iter__ in (_OrderSampler.__iter__, SubsetRandomSampler.__iter__):
        return sampler._order()
    return None


class SequentialSampler(_OrderSampler):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order, every pass."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _order(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=B.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_OrderSampler):
    """Indices of ``data_source`` in random order, a new order every pass.

    replacement=False   a permutation of all indices; with ``num_samples`` larger than the dataset,
                        whole permutations one after another, the last one cut short
    replacement=True    ``num_samples`` indices drawn uniformly and independently (repeats possible)
    num_samples         how many indices a pass yields (default ``len(data_source)``)
    generator           the ``cr.Generator`` to draw from (default: the global one)
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise ArgumentError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        _positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _order(self) -> np.ndarray:
        count, wanted = len(self.data_source), int(self.num_samples)
        if count == 0:
            raise ArgumentError(f"RandomSampler: cannot draw num_samples={wanted} indices "
                             "from an empty data source")
        draw = B.rng(self.generator)
        if self.replacement:
            return draw.integers(0, count, size=wanted, dtype=B.int64)
        pieces = [draw.permutation(count) for _ in range(wanted // count)]
        if wanted % count:
            pieces.append(draw.permutation(count)[:wanted % count])
        return np.concatenate(pieces).astype(B.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a new order every pass (no repeats)."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def _order(self) -> np.ndarray | None:
        """The pass as an int64 array when ``indices`` are integers (else None, before any draw)."""
        indices = np.asarray(getattr(self.indices, "_data", self.indices))
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            return None
        return indices[B.rng(self.generator).permutation(len(indices))].astype(B.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        order = self._order()
        if order is not None:
            return iter(order.tolist())
        return (self.indices[i] for i in B.rng(self.generator).permutation(len(self.indices)).tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_OrderSampler):
    """``num_samples`` indices ``0..len(weights)-1``, index i drawn with probability w_i / sum(w).

    The weights need not add up to 1 (class-balancing weights such as 1 / class_count work as they
    are). With ``replacement=False`` an index is drawn at most once, so at most as many indices
    as there are nonzero weights.
    """

    def __init__(self, weights: Tensor | Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        num_samples = _positive_int(num_samples, "num_samples")
        if not isinstance(replacement, bool):
            raise ArgumentError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        array = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if array.ndim != 1:
            raise ArgumentError(f"weights should be a 1d sequence but given weights have shape {array.shape}")
        if not np.isfinite(array).all() or (array < 0).any() or array.sum() <= 0:
            raise ArgumentError("WeightedRandomSampler: weights must be finite, non-negative and "
                                "not all zero")
        if not replacement and num_samples > np.count_nonzero(array):
            raise ArgumentError(f"WeightedRandomSampler: cannot draw {num_samples} indices without "
                                "replacement "
                             f"from {np.count_nonzero(array)} nonzero weights")
        self.weights = Tensor._wrap(array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _order(self) -> np.ndarray:
        weights = self.weights._data
        return B.rng(self.generator).choice(len(weights), size=self.num_samples, replace=self.replacement,
                                            p=weights / weights.sum()).astype(B.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` (any iterable) into lists of ``batch_size``.

        list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=False))  ->  [[0,1,2], [3,4,5], [6]]

    ``drop_last=True`` leaves out a last list shorter than ``batch_size``.
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise ArgumentError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def _index_arrays(self) -> Iterator[np.ndarray] | None:
        """This pass's batches as int64 arrays (the order is drawn now), or None if the sampler
        yields its indices one at a time (then iterate the BatchSampler itself)."""
        if type(self).__iter__ is not BatchSampler.__iter__:
            return None
        order = whole_order(self.sampler)
        if order is None:
            return None
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        return (order[start:start + self.batch_size] for start in range(0, stop, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size  # type: ignore[arg-type]
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore[arg-type]
