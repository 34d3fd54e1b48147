"""random_split, Subset, ConcatDataset, ChainDataset and StackDataset, checked against torch.utils.data."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)


@pytest.mark.parametrize("count, lengths", [
    (10, [0.8, 0.2]), (11, [0.8, 0.2]), (7, [0.5, 0.5]), (10, [1 / 3] * 3), (100, [0.33, 0.33, 0.34]),
    (5, [0.1, 0.1, 0.8]), (3, [0.25, 0.25, 0.25, 0.25]), (10, [7, 3]), (10, [0, 10]), (1, [1.0]),
], ids=str)
def test_random_split_lengths_match_torch(count, lengths):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.utils.data.random_split(range(count), lengths)
        ours = random_split(range(count), lengths, generator=cr.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    everything = sorted(i for subset in ours for i in subset.indices)
    assert everything == list(range(count))                # a partition: no overlap, nothing left out
    assert all(isinstance(s, Subset) for s in ours)


def test_random_split_errors_and_warnings_match_torch():
    torch = pytest.importorskip("torch")
    for lengths in ([5, 4], [0.5, 0.4], [1.5, -0.5]):
        with pytest.raises(ValueError):
            torch.utils.data.random_split(range(10), lengths)
        with pytest.raises(ValueError):
            random_split(range(10), lengths)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        torch.utils.data.random_split(range(1), [0.5, 0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(1), [0.5, 0.5])


def test_random_split_is_reproducible_with_a_generator_and_follows_manual_seed():
    def split(**kwargs):
        return [s.indices for s in random_split(range(20), [0.5, 0.5], **kwargs)]

    assert split(generator=cr.Generator().manual_seed(42)) == split(generator=cr.Generator().manual_seed(42))
    assert split(generator=cr.Generator().manual_seed(42)) != split(generator=cr.Generator().manual_seed(43))
    cr.manual_seed(7)
    first = split()
    cr.manual_seed(7)
    assert split() == first


def test_subset_indexing_and_getitems():
    torch = pytest.importorskip("torch")
    X = cr.tensor(np.arange(12.0).reshape(6, 2))
    ours = Subset(TensorDataset(X), [5, 0, 3])
    theirs = torch.utils.data.Subset(torch.utils.data.TensorDataset(torch.from_numpy(X.numpy())), [5, 0, 3])
    assert len(ours) == len(theirs) == 3
    np.testing.assert_array_equal(ours[0][0].numpy(), theirs[0][0].numpy())
    np.testing.assert_array_equal(ours[[0, 2]][0].numpy(), theirs[[0, 2]][0].numpy())
    np.testing.assert_array_equal(ours.__getitems__([1, 2])[1][0].numpy(), [6.0, 7.0])

    class Bad(Subset):
        def __getitem__(self, index):
            return 0
    with pytest.raises(NotImplementedError, match="__getitems__"):
        Bad(TensorDataset(X), [0])


def test_subset_of_a_split_loads_through_the_fast_path():
    X, y = cr.randn(40, 3), cr.arange(40)
    train, _ = random_split(TensorDataset(X, y), [0.75, 0.25], generator=cr.Generator().manual_seed(1))
    seen = np.concatenate([batch_y.numpy() for _, batch_y in DataLoader(train, batch_size=8)])
    np.testing.assert_array_equal(seen, train.indices)
    for batch_x, batch_y in DataLoader(train, batch_size=8, shuffle=True):
        np.testing.assert_array_equal(batch_x.numpy(), X.numpy()[batch_y.numpy()])
    train.indices = [3, 1]       # a new index list is picked up
    assert next(iter(DataLoader(train, batch_size=2)))[1].tolist() == [3, 1]


def test_concat_dataset_indexing_matches_torch():
    torch = pytest.importorskip("torch")
    parts = [list(range(3)), list(range(10, 15)), [], list(range(20, 22))]
    ours = ConcatDataset(parts)
    theirs = torch.utils.data.ConcatDataset(parts)
    assert len(ours) == len(theirs) == 10 and ours.cumulative_sizes == theirs.cumulative_sizes
    for index in range(-10, 10):
        assert ours[index] == theirs[index]
    for index, error in ((10, IndexError), (-11, ValueError)):
        with pytest.raises(error):
            theirs[index]
        with pytest.raises(error):
            ours[index]
    with pytest.raises(AssertionError):
        ConcatDataset([])


def test_adding_datasets_concatenates_and_chains():
    a = TensorDataset(cr.arange(3))
    b = TensorDataset(cr.arange(3, 5))
    both = a + b
    assert isinstance(both, ConcatDataset) and [both[i][0].item() for i in range(5)] == [0, 1, 2, 3, 4]

    class Count(IterableDataset):
        def __init__(self, stop):
            self.stop = stop

        def __iter__(self):
            return iter(range(self.stop))

        def __len__(self):
            return self.stop

    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([a, Count(2)])
    with pytest.raises(AssertionError, match="IterableDataset"):
        list(ChainDataset([a]))
    assert [b.tolist() for b in DataLoader(chained, batch_size=2)] == [[0, 1], [0, 1], [2]]


def test_stack_dataset_as_tuples_and_dicts_matches_torch():
    torch = pytest.importorskip("torch")
    images, labels = list(range(5)), list("abcde")
    for args, kwargs in (((images, labels), {}), ((), {"image": images, "label": labels})):
        ours, theirs = StackDataset(*args, **kwargs), torch.utils.data.StackDataset(*args, **kwargs)
        assert len(ours) == len(theirs) == 5
        assert ours[2] == theirs[2]
        assert ours.__getitems__([0, 4]) == theirs.__getitems__([0, 4])
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(images, labels[:3])
    with pytest.raises(ValueError):
        StackDataset()
    with pytest.raises(ValueError):
        StackDataset(images, label=labels)
    batch = next(iter(DataLoader(StackDataset(x=TensorDataset(cr.arange(4)), name=labels[:4]), batch_size=3)))
    assert batch["x"][0].tolist() == [0, 1, 2] and batch["name"] == ["a", "b", "c"]


def test_a_dataset_without_len_is_refused_clearly():
    class NoLength(Dataset):
        def __getitem__(self, index):
            return index

    with pytest.raises(TypeError, match="__len__"):
        DataLoader(NoLength())
    loader = DataLoader(NoLength(), sampler=[2, 0], batch_size=2)   # a sampler makes len() unnecessary
    assert next(iter(loader)).tolist() == [2, 0]
