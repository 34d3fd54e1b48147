"""DistributedSampler: each rank's share of a dataset, every epoch, as PyTorch deals them.

With n items, R ranks (``num_replicas``) and this rank r:

    order    = 0..n-1, or (shuffle) a permutation drawn from seed + epoch -- the same on every
               rank, since each seeds its own generator the same way
    per rank = ceil(n / R) items, so the order is padded to R * ceil(n / R) by repeating its
               first items (some ranks see one or two items twice in an epoch), or with
               drop_last=True, ceil((n - R) / R) = floor(n / R) items when R does not divide n,
               the order cut to R * that (the last items are left out this epoch)
    rank r   = padded_order[r], padded_order[r + R], padded_order[r + 2R], ...

so the R shares together hold every item exactly once (plus the padding), and each rank's
DataLoader makes the same number of batches, which DistributedDataParallel needs: a rank with
one batch more would wait for the others' gradients for ever. Call ``set_epoch(epoch)`` before
each epoch, or every epoch repeats the first one's order.

The order is drawn from chainrule's generator (NumPy's PCG64), so a shuffled epoch is not
PyTorch's permutation; the padding and the dealing are PyTorch's, index for index.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..distributed import process_group as groups
from ..errors import ArgumentError
from .sampler import _OrderSampler

if TYPE_CHECKING:
    from typing import Any


class DistributedSampler(_OrderSampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits (see the module doc).

    num_replicas, rank   default: the process group's world size and this process's rank
    shuffle              a new order each epoch (seed + epoch); False: 0..n-1 dealt in turn
    seed                 the same on every rank
    drop_last            leave out the items past the last whole round instead of repeating some
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            if not groups.is_initialized():
                raise groups.DistributedError(
                    "DistributedSampler: num_replicas and rank come from the process group, which has "
                    "not been initialized: call chainrule.distributed.init_process_group() first, or "
                    "pass num_replicas= and rank=")
            num_replicas = groups.get_world_size() if num_replicas is None else num_replicas
            rank = groups.get_rank() if rank is None else rank
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise ArgumentError(f"DistributedSampler: {name} must be an integer, got {value!r}")
        if num_replicas < 1:
            raise ArgumentError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ArgumentError(f"Invalid rank {rank}, rank should be in the interval "
                                f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        count = len(dataset)
        if self.drop_last and count % self.num_replicas:
            self.num_samples = math.ceil((count - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(count / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (seed + epoch) in the next pass."""
        self.epoch = int(epoch)

    def _order(self) -> np.ndarray:
        count = len(self.dataset)
        if self.shuffle:
            order = B.Generator().manual_seed(self.seed + self.epoch)._numpy.permutation(count)
        else:
            order = np.arange(count)
        # np.resize repeats the order from its start to fill the padding (the cut when dropping)
        dealt = np.resize(order, self.total_size) if count else order[:0]
        return dealt[self.rank:self.total_size:self.num_replicas].astype(B.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples
