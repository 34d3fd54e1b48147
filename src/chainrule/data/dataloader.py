"""DataLoader: walk a dataset in mini-batches, optionally shuffled, reproducibly (PyTorch's class)."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from ..backend import Generator
from ..errors import ArgumentError
from .collate import default_collate, default_convert
from .dataset import IterableDataset, batch_gatherer
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import Any

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class _InfiniteConstantSampler(Sampler):
    """The sampler of a stream (IterableDataset): no indices, just "the next example", forever."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


def get_worker_info() -> None:
    """Information about the current DataLoader worker process: always None in chainrule, whose
    DataLoader reads every batch in the calling process (as PyTorch's does with num_workers=0)."""
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches, with PyTorch's arguments and rules.

        loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
        for epoch in range(10):
            for x_batch, y_batch in loader:      # a new order each epoch
                ...

    dataset         map-style (``__getitem__`` + ``__len__``) or an ``IterableDataset`` (a stream)
    batch_size      examples per batch (default 1); ``None`` turns batching off: each example is
                    yielded alone, passed through ``collate_fn`` (``default_convert`` by default)
    shuffle         draw a new random order at the start of every pass (``RandomSampler``)
    sampler         the order of the indices (a Sampler or any iterable); excludes ``shuffle``
    batch_sampler   yields whole lists of indices; excludes batch_size, shuffle, sampler, drop_last
    drop_last       skip the last batch when it is smaller than ``batch_size``
    collate_fn      turns a list of examples into a batch (``default_collate`` by default)
    generator       the ``cr.Generator`` that shuffling draws from (default: the global generator,
                    seeded by ``cr.manual_seed``)
    seed            chainrule's shorthand for ``generator=cr.Generator().manual_seed(seed)``:
                    created once, so epoch 1, 2, ... differ but repeat run to run

    num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
    persistent_workers, pin_memory_device and in_order are accepted and checked as PyTorch checks
    them, but chainrule starts no worker processes: with any ``num_workers`` every batch is read in
    the calling process, one after another (so ``worker_init_fn`` is never called and
    ``get_worker_info()`` is None), and there is no pinned memory (chainrule is CPU-only).

    ``len(loader)`` is the number of batches per pass (for an IterableDataset, from its ``len()``).
    Over a ``TensorDataset`` (or a ``Subset`` of one) with the default collate, a batch is taken
    with one array gather per tensor instead of stacking examples one by one.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[int] | None = None,
                 batch_sampler: Sampler | Iterable[Sequence[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, multiprocessing_context: object = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None) -> None:
        if num_workers < 0:
            raise ArgumentError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ArgumentError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ArgumentError("prefetch_factor option could only be specified in multiprocessing. Let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                             "to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ArgumentError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ArgumentError("persistent_workers option needs num_workers > 0")
        if seed is not None:
            if generator is not None:
                raise ArgumentError("DataLoader: give seed= or generator=, not both (seed=n is "
                                 "generator=cr.Generator().manual_seed(n))")
            generator = Generator().manual_seed(seed)

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ArgumentError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ArgumentError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ArgumentError(f"DataLoader with IterableDataset: expected unspecified batch_sampler "
                                 f"option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            if not hasattr(dataset, "__getitem__") or (
                    sampler is None and batch_sampler is None and not hasattr(dataset, "__len__")):
                raise ArgumentError("DataLoader needs a map-style dataset (with __getitem__ and __len__) "
                                    f"or an IterableDataset (with __iter__), got {type(dataset).__name__}")
        if sampler is not None and shuffle:
            raise ArgumentError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ArgumentError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ArgumentError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")

        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
            batch_size = batch_sampler.batch_size
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.shuffle = shuffle
        self.generator = generator
        self.seed = seed
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FIXED_AFTER_INIT and self.__dict__.get("_initialized"):
            raise ArgumentError(f"{name} attribute should not be set after {type(self).__name__} is "
                                "initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        """One pass over the data (with ``shuffle``, in a new order each pass)."""
        if self._iterable:
            return self._stream(iter(self.dataset))
        gather = batch_gatherer(self.dataset) if self.collate_fn is default_collate else None
        if gather is not None and isinstance(self.batch_sampler, BatchSampler):
            index_arrays = self.batch_sampler._index_arrays()
            if index_arrays is not None:   # one fancy-indexing gather per tensor, no loop per example
                return map(gather, index_arrays)
        return self._fetch(iter(self._index_sampler))

    def _fetch(self, indices: Iterator[Any]) -> Iterator[Any]:
        dataset, collate = self.dataset, self.collate_fn
        if not self._auto_collation:
            for index in indices:
                yield collate(dataset[index])
            return
        get_many = getattr(dataset, "__getitems__", None)
        for batch in indices:
            yield collate(get_many(batch) if callable(get_many) else [dataset[i] for i in batch])

    def _stream(self, examples: Iterator[Any]) -> Iterator[Any]:
        collate = self.collate_fn
        if self.batch_size is None:
            for example in examples:
                yield collate(example)
            return
        while True:
            batch = list(itertools.islice(examples, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield collate(batch)

    def __repr__(self) -> str:
        size = f" of {len(self.dataset)}" if hasattr(self.dataset, "__len__") else ""
        return (f"DataLoader({type(self.dataset).__name__}{size}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")
