"""Arrays a plan writes its values into (``out=``), kept from call to call.

A fresh array per op per step costs an allocation and, for large ones, memory the cache has not
seen. Where the plan's code can write into a given array (forms.py: a linear layer's product, a
ReLU), it asks for one here: each such value has a small pool (two arrays) and gets the first one
nothing else holds. What holds an array is told by its reference count -- the previous call's
frame still keeping it for its backward, a result the caller kept, a view of it -- so a value in
use is never written over; the second array covers the common case of the previous step's graph
still being alive while the next forward runs. Small arrays (under ``SMALL`` values) are simply
allocated: for them the check costs more than the allocation.
"""

from __future__ import annotations

import sys

from ..backend import np

SMALL = 4096
POOL = 2


class BufferPool:
    """The plan's reusable arrays, one pool per value that asked for one."""

    def __init__(self):
        self.specs: list[tuple] = []
        self.pools: list[list] = []

    def request(self, shape, dtype) -> int | None:
        """A pool for a value of this shape and dtype; its number, or None when it is small."""
        if int(np.prod(shape)) < SMALL:
            return None
        self.specs.append((tuple(shape), np.dtype(dtype)))
        self.pools.append([])
        return len(self.specs) - 1

    def take(self, number: int):
        """An array of pool ``number`` that nothing else holds (a new one if all are held)."""
        pool = self.pools[number]
        for array in pool:
            if sys.getrefcount(array) <= _FREE:
                return array
        array = np.empty(*self.specs[number])
        if len(pool) < POOL:
            pool.append(array)
        return array


def _free_count() -> int:
    """The references an array held by nothing but its pool has inside ``take``'s loop."""
    pool = BufferPool()
    pool.specs.append(((1,), np.dtype(np.float32)))
    pool.pools.append([np.empty(1, np.float32)])
    for array in pool.pools[0]:
        return sys.getrefcount(array)


_FREE = _free_count()
