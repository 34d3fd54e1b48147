"""Datasets: anything with ``len(dataset)`` and ``dataset[i]`` giving one example (PyTorch's classes).

    Dataset            map-style: ``__getitem__(index)`` and ``__len__()``; ``a + b`` concatenates
    IterableDataset    a stream: ``__iter__()`` yields examples (for data read as it comes)
    TensorDataset      rows of tensors that share their first dimension
    Subset             the examples of a dataset at some indices
    ConcatDataset      datasets one after another;  ChainDataset: the same for streams
    StackDataset       several datasets side by side: example i is (a[i], b[i]) or {'a': a[i], ...}
    random_split       a random partition into Subsets, by lengths or by fractions
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import Any

    from ..backend import Generator


class Dataset:
    """Base class for map-style datasets: define ``__getitem__(index)`` and ``__len__()``.

    ``dataset[i]`` returns one example, usually a tuple ``(features, label)``; a ``DataLoader``
    groups examples into batches. ``dataset1 + dataset2`` is their ``ConcatDataset``. A dataset
    may also define ``__getitems__(indices)`` returning a list of examples; the DataLoader then
    fetches a batch with one call.

    As in PyTorch there is no default ``__len__``: a subclass without one has no ``len()`` (so a
    stream's ``len(loader)`` is a TypeError, and ``list(loader)`` still works).
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class for datasets that are streams: define ``__iter__()`` yielding examples.

    For data read as it arrives (lines of a file, a generator). The DataLoader groups the stream
    into batches of ``batch_size`` in order; it takes no ``shuffle`` or ``sampler``. Define
    ``__len__`` too if ``len(loader)`` should work. ``stream1 + stream2`` is their ``ChainDataset``.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__(self)")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]  # as PyTorch
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Examples made of rows of tensors that share their first dimension.

        dataset = TensorDataset(X, y)        # X: (N, features), y: (N,)
        dataset[3]                           # (X[3], y[3])

    A ``DataLoader`` over a TensorDataset (or a Subset of one) with the default collate takes
    whole batches at once by indexing the underlying arrays with an index array (no per-example
    work); the batches are the same as stacking the examples one by one.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ArgumentError("TensorDataset needs at least one tensor")
        converted = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in converted]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(t.shape) for t in converted)
            raise ShapeError(f"TensorDataset: every tensor needs the same first dimension (the number of "
                             f"examples); got shapes {shapes}")
        self.tensors = converted

    def __getitem__(self, index: int) -> Any:
        return tuple(Tensor._wrap(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _gather_batch(self, indices: np.ndarray) -> list:
        """The collated batch of the examples at ``indices``: one gather per tensor."""
        return [Tensor._wrap(t._data[indices]) for t in self.tensors]

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(t.shape) for t in self.tensors)})"


def batch_gatherer(dataset: Any) -> Callable[[np.ndarray], Any] | None:
    """``dataset._gather_batch`` when the dataset can collate a batch by one array gather, else None.

    Only for TensorDataset and Subset themselves: a subclass that changes how examples are
    read (its own ``__getitem__``/``__getitems__``) goes the example-by-example way.
    """
    kind = type(dataset)
    if isinstance(dataset, TensorDataset) and kind.__getitem__ is TensorDataset.__getitem__:
        return dataset._gather_batch
    if (isinstance(dataset, Subset) and kind.__getitem__ is Subset.__getitem__
            and kind.__getitems__ is Subset.__getitems__ and batch_gatherer(dataset.dataset) is not None):
        return dataset._gather_batch
    return None


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``: ``Subset(d, [4, 0])[1]`` is ``d[0]``.

    ``len(subset) == len(indices)``; what ``random_split`` returns.
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        kind = type(self)
        if kind.__getitem__ is not Subset.__getitem__ and kind.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(f"{type(self).__name__} overrides __getitem__ but not __getitems__; "
                                      "define __getitems__(self, indices) too, e.g. returning "
                                      "[self[i] for i in indices], so the DataLoader reads your examples")

    @property
    def indices(self) -> Sequence[int]:
        return self._indices

    @indices.setter
    def indices(self, indices: Sequence[int]) -> None:
        self._indices = indices
        self._index_array: np.ndarray | None = None

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        inner = getattr(self.dataset, "__getitems__", None)
        if callable(inner):
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _gather_batch(self, indices: np.ndarray) -> list:
        if self._index_array is None:
            self._index_array = np.asarray(getattr(self.indices, "_data", self.indices), dtype=B.int64)
        return batch_gatherer(self.dataset)(self._index_array[indices])  # type: ignore[misc]  # a Subset has one


class ConcatDataset(Dataset):
    """Datasets one after another: index ``i`` runs through the first, then the second, ...

    ``cumulative_sizes[k]`` is the number of examples in datasets ``0..k``. Negative indices
    count from the end. Streams (IterableDataset) go in a ``ChainDataset`` instead.
    """

    @staticmethod
    def cumsum(sequence: Sequence[Any]) -> list:
        return list(itertools.accumulate(len(dataset) for dataset in sequence))

    def __init__(self, datasets: Iterable[Any]) -> None:
        super().__init__()
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable (ConcatDataset needs one or more)")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset; use ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ArgumentError(f"absolute value of index should not exceed dataset length "
                                 f"(index {index}, length {len(self)})")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset index {index} is out of range for length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Streams (IterableDatasets) one after another, chained as they are read."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        super().__init__()
        self.datasets = datasets

    def _checked(self) -> Iterator[IterableDataset]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError(f"ChainDataset only supports IterableDataset, "
                                     f"got {type(dataset).__name__}")
            yield dataset

    def __iter__(self) -> Iterator[Any]:
        for dataset in self._checked():
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self._checked())  # type: ignore[arg-type, misc]


class StackDataset(Dataset):
    """Datasets of one length side by side: ``StackDataset(a, b)[i] == (a[i], b[i])``,
    ``StackDataset(image=a, label=b)[i] == {'image': a[i], 'label': b[i]}``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ArgumentError("StackDataset takes datasets either as arguments (examples are tuples) or "
                             "as keywords (examples are dicts), not both")
        if not args and not kwargs:
            raise ArgumentError("At least one dataset should be passed to StackDataset")
        parts = list(args) if args else list(kwargs.values())
        lengths = [len(dataset) for dataset in parts]
        if len(set(lengths)) != 1:
            raise ArgumentError(f"Size mismatch between datasets: StackDataset got lengths {lengths}")
        self._length = lengths[0]
        self.datasets = args if args else kwargs

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list) -> list:
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)  # type: ignore[union-attr]
        columns = {}
        for key, dataset in parts:
            inner = getattr(dataset, "__getitems__", None)
            column = inner(indices) if callable(inner) else [dataset[i] for i in indices]
            if len(column) != len(indices):
                raise ArgumentError(f"Nested dataset's output size mismatch. Expected {len(indices)}, "
                                 f"got {len(column)}")
            columns[key] = column
        if named:
            return [{key: column[row] for key, column in columns.items()} for row in range(len(indices))]
        return [tuple(column[row] for column in columns.values()) for row in range(len(indices))]

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None) -> list:
    """Split ``dataset`` at random into non-overlapping ``Subset``\\ s of the given lengths.

        train, val = random_split(dataset, [50_000, 10_000], generator=cr.Generator().manual_seed(42))
        train, val, test = random_split(dataset, [0.8, 0.1, 0.1])

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that add up to 1. Fractions
    become ``floor(fraction * len(dataset))`` each, and the examples left over are handed out one
    at a time to the splits in order (round robin), as in PyTorch; a split of length 0 warns.
    The order comes from one permutation drawn from ``generator`` (default: chainrule's global
    generator, seeded by ``cr.manual_seed``).
    """
    lengths = list(lengths)
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for position, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ArgumentError(f"Fraction at index {position} is not between 0 and 1 (got {fraction})")
            counts.append(math.floor(total * fraction))
        for extra in range(total - sum(counts)):
            counts[extra % len(counts)] += 1
        for position, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {position} is 0. "
                              "This might result in an empty dataset.", stacklevel=2)
        lengths = counts
    if sum(lengths) != total:
        raise ArgumentError(f"Sum of input lengths does not equal the length of the input dataset! "
                         f"(random_split: lengths {lengths} add up to {sum(lengths)}, "
                         f"the dataset has {total})")
    order = B.rng(generator).permutation(total).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length:end]) for end, length in zip(ends, lengths)]
