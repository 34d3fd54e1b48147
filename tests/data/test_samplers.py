"""Samplers: torch's orders, lengths and argument checks; reproducible draws from cr.Generator."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def _seeded(seed):
    return cr.Generator().manual_seed(seed)


def test_sequential_and_batch_samplers_match_torch():
    torch_data = pytest.importorskip("torch.utils.data")
    for count in (0, 1, 7, 10):
        assert list(SequentialSampler(range(count))) == list(torch_data.SequentialSampler(range(count)))
        for batch_size in (1, 3, 5, 12):
            for drop_last in (False, True):
                ours = BatchSampler(SequentialSampler(range(count)), batch_size, drop_last)
                inner = torch_data.SequentialSampler(range(count))
                theirs = torch_data.BatchSampler(inner, batch_size, drop_last)
                assert list(ours) == list(theirs) and len(ours) == len(theirs)
    # any iterable of indices works as the inner sampler
    assert list(BatchSampler([5, 3, 1, 0, 2], 2, False)) == [[5, 3], [1, 0], [2]]


@pytest.mark.parametrize("make, error", [
    (lambda m: m.BatchSampler(range(4), 0, False), ValueError),
    (lambda m: m.BatchSampler(range(4), True, False), ValueError),
    (lambda m: m.BatchSampler(range(4), 2.0, False), ValueError),
    (lambda m: m.BatchSampler(range(4), 2, "no"), ValueError),
    (lambda m: m.RandomSampler(range(4), replacement=1), TypeError),
    (lambda m: m.RandomSampler(range(4), num_samples=0), ValueError),
    (lambda m: m.RandomSampler(range(0)), ValueError),
    (lambda m: m.WeightedRandomSampler([1.0, 2.0], 0), ValueError),
    (lambda m: m.WeightedRandomSampler([1.0, 2.0], 3, replacement="yes"), ValueError),
    (lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 3), ValueError),
])
def test_argument_checks_raise_what_torch_raises(make, error):
    torch_data = pytest.importorskip("torch.utils.data")
    with pytest.raises(error):
        make(torch_data)
    with pytest.raises(error):
        make(cr.data)


def test_random_sampler_is_a_fresh_permutation_each_pass():
    sampler = RandomSampler(range(10), generator=_seeded(1))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    assert all(isinstance(i, int) for i in first) and len(sampler) == 10
    again = RandomSampler(range(10), generator=_seeded(1))
    assert list(again) == first and list(again) == second


def test_random_sampler_without_generator_follows_manual_seed():
    cr.manual_seed(3)
    first = list(RandomSampler(range(20)))
    cr.manual_seed(3)
    assert list(RandomSampler(range(20))) == first


def test_random_sampler_num_samples_and_replacement_as_torch():
    torch_data = pytest.importorskip("torch.utils.data")
    for replacement, num_samples in [(False, 25), (False, 4), (True, 7), (True, 100)]:
        ours = RandomSampler(range(10), replacement=replacement, num_samples=num_samples,
                             generator=_seeded(0))
        theirs = torch_data.RandomSampler(range(10), replacement=replacement, num_samples=num_samples)
        drawn = list(ours)
        assert len(drawn) == len(ours) == len(theirs) == len(list(theirs)) == num_samples
        assert set(drawn) <= set(range(10))
        if not replacement:   # whole permutations back to back, the last one cut short
            counts = np.bincount(drawn, minlength=10)
            assert counts.max() - counts.min() <= 1
            first_pass = drawn[:10]
            assert len(set(first_pass)) == len(first_pass)


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [4, 9, 2, 7]
    sampler = SubsetRandomSampler(indices, generator=_seeded(0))
    order = list(sampler)
    assert sorted(order) == sorted(indices) and len(sampler) == 4
    assert list(SubsetRandomSampler(indices, generator=_seeded(0))) == order
    assert sorted(SubsetRandomSampler(cr.tensor(indices))) == sorted(indices)
    keyed = SubsetRandomSampler(["a", "b", "c"], generator=_seeded(0))   # not integers: taken one by one
    assert sorted(keyed) == ["a", "b", "c"]


def test_weighted_sampler_frequencies_follow_the_weights():
    weights = [1.0, 0.0, 3.0, 4.0]
    draws = list(WeightedRandomSampler(weights, 40_000, generator=_seeded(5)))
    frequencies = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(frequencies, np.array(weights) / 8.0, atol=0.01)
    assert frequencies[1] == 0.0
    distinct = list(WeightedRandomSampler(weights, 3, replacement=False, generator=_seeded(5)))
    assert sorted(distinct) == [0, 2, 3]
    with pytest.raises(ValueError, match="nonzero weights"):
        WeightedRandomSampler(weights, 4, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    sampler = WeightedRandomSampler(cr.tensor([0.2, 0.8]), 5)
    assert sampler.weights.dtype == np.float64 and len(sampler) == 5


def test_custom_samplers_plug_in():
    class EvensFirst(Sampler):
        def __init__(self, data_source):
            self.data_source = data_source

        def __iter__(self):
            count = len(self.data_source)
            return iter(list(range(0, count, 2)) + list(range(1, count, 2)))

        def __len__(self):
            return len(self.data_source)

    assert list(BatchSampler(EvensFirst(range(5)), 2, False)) == [[0, 2], [4, 1], [3]]
    with pytest.raises(NotImplementedError):
        iter(Sampler())
