"""DistributedSampler: PyTorch's lengths, padding and dealing, index for index; the shares of an
epoch cover the data set exactly once; set_epoch changes the order, the seed fixes it."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, TensorDataset
from chainrule.utils.data import DistributedSampler
from chainrule.utils.data.distributed import DistributedSampler as AtTorchsPath

SIZES = [0, 1, 2, 7, 10, 12, 13]
SHAPES = [(size, replicas, drop_last) for size in SIZES for replicas in (1, 2, 3, 4, 5)
          for drop_last in (False, True)]


def shards(size, replicas, **options):
    return [list(DistributedSampler(range(size), num_replicas=replicas, rank=r, **options))
            for r in range(replicas)]


def test_one_class_at_both_of_torchs_paths():
    assert AtTorchsPath is DistributedSampler is cr.data.DistributedSampler


@pytest.mark.parametrize("size, replicas, drop_last", SHAPES)
def test_unshuffled_shares_are_torchs(size, replicas, drop_last):
    torch_distributed = pytest.importorskip("torch.utils.data.distributed")
    for rank in range(replicas):
        ours = DistributedSampler(range(size), num_replicas=replicas, rank=rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = torch_distributed.DistributedSampler(range(size), num_replicas=replicas, rank=rank,
                                                      shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("size, replicas, drop_last", SHAPES)
def test_shuffled_shares_deal_our_permutation_as_torch_deals_its_own(size, replicas, drop_last):
    """The permutation is chainrule's (PCG64), the padding and dealing PyTorch's: each rank's share
    is our permutation taken at the positions torch's unshuffled sampler gives that rank."""
    torch_distributed = pytest.importorskip("torch.utils.data.distributed")
    for epoch in (0, 3):
        permutation = cr.Generator().manual_seed(5 + epoch)._numpy.permutation(size)
        for rank in range(replicas):
            ours = DistributedSampler(range(size), num_replicas=replicas, rank=rank, seed=5,
                                      drop_last=drop_last)
            ours.set_epoch(epoch)
            positions = list(torch_distributed.DistributedSampler(
                range(size), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last))
            assert list(ours) == permutation[positions].tolist()


@pytest.mark.parametrize("size", [10, 12, 13, 100])
@pytest.mark.parametrize("replicas", [2, 3, 4])
def test_an_epochs_shares_cover_the_data_set_exactly_once(size, replicas):
    parts = shards(size, replicas, seed=1)
    assert len({len(part) for part in parts}) == 1                    # equal shares
    everything = sorted(i for part in parts for i in part)
    padding = len(everything) - size
    assert 0 <= padding < replicas
    assert sorted(set(everything)) == list(range(size))               # every item at least once
    assert len(set(everything)) == size and len(everything) - len(set(everything)) == padding
    dropped = shards(size, replicas, seed=1, drop_last=True)
    flat = [i for part in dropped for i in part]
    assert len(flat) == len(set(flat)) == size - size % replicas      # once at most, none repeated


def test_set_epoch_draws_a_new_order_and_the_same_seed_the_same_one():
    assert shards(50, 2, seed=3) == shards(50, 2, seed=3)
    samplers = [DistributedSampler(range(50), num_replicas=2, rank=r, seed=3) for r in range(2)]
    for sampler in samplers:
        sampler.set_epoch(1)
    epoch_one = [list(sampler) for sampler in samplers]
    assert epoch_one != shards(50, 2, seed=3)
    assert sorted(epoch_one[0] + epoch_one[1]) == list(range(50))


def test_a_dataloader_batches_its_share():
    X = cr.arange(20.0).reshape(10, 2)
    y = cr.arange(10)
    sampler = DistributedSampler(TensorDataset(X, y), num_replicas=3, rank=1, shuffle=False)
    batches = [yb.tolist() for _, yb in DataLoader(TensorDataset(X, y), batch_size=2, sampler=sampler)]
    assert batches == [[1, 4], [7, 0]]


@pytest.mark.parametrize("options, message", [
    ({"num_replicas": 2, "rank": 2}, r"Invalid rank 2, rank should be in the interval \[0, 1\]"),
    ({"num_replicas": 2, "rank": -1}, "Invalid rank -1"),
    ({"num_replicas": 0, "rank": 0}, "num_replicas must be at least 1"),
    ({"num_replicas": 2.5, "rank": 0}, "num_replicas must be an integer"),
    ({}, "process group, which has not been initialized"),
])
def test_bad_arguments_are_refused_by_name(options, message):
    with pytest.raises((cr.ArgumentError, cr.ChainruleError), match=message):
        DistributedSampler(range(4), **options)


def test_the_order_is_an_int64_array_the_dataloader_slices():
    order = DistributedSampler(range(9), num_replicas=2, rank=0)._order()
    assert order.dtype == np.int64 and order.shape == (5,)
