"""Dataset, TensorDataset and DataLoader: batching, shuffling with a seed, drop_last, collation."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset, default_collate
from chainrule.errors import ShapeError


def _dataset(count=10):
    X = cr.tensor(np.arange(count * 3, dtype=np.float32).reshape(count, 3))
    y = cr.tensor(np.arange(count))
    return TensorDataset(X, y)


def test_tensor_dataset_items_and_len():
    dataset = _dataset()
    assert len(dataset) == 10
    x, y = dataset[4]
    np.testing.assert_array_equal(x.numpy(), [12, 13, 14])
    assert y.item() == 4
    with pytest.raises(ShapeError, match="first dimension"):
        TensorDataset(cr.zeros(3, 2), cr.zeros(4))


@pytest.mark.parametrize("batch_size, drop_last, sizes", [(4, False, [4, 4, 2]), (4, True, [4, 4]),
                                                          (5, True, [5, 5]), (1, False, [1] * 10),
                                                          (32, False, [10]), (32, True, [])])
def test_batches_in_order(batch_size, drop_last, sizes):
    loader = DataLoader(_dataset(), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [len(y) for _, y in batches] == sizes
    if batches:
        seen = np.concatenate([y.numpy() for _, y in batches])
        np.testing.assert_array_equal(seen, np.arange(len(seen)))
        x, y = batches[0]
        assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (sizes[0], 3)
        assert not x.requires_grad


def test_shuffle_with_seed_is_reproducible_and_changes_each_epoch():
    def orders(loader, epochs=3):
        return [np.concatenate([y.numpy() for _, y in loader]) for _ in range(epochs)]

    first = orders(DataLoader(_dataset(), batch_size=3, shuffle=True, seed=11))
    again = orders(DataLoader(_dataset(), batch_size=3, shuffle=True, seed=11))
    other = orders(DataLoader(_dataset(), batch_size=3, shuffle=True, seed=12))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
    assert not np.array_equal(first[0], first[1])
    for order in first:
        np.testing.assert_array_equal(np.sort(order), np.arange(10))   # a permutation: every example once


def test_shuffle_without_seed_follows_manual_seed():
    def one_epoch():
        return np.concatenate([y.numpy() for _, y in DataLoader(_dataset(), batch_size=4, shuffle=True)])

    cr.manual_seed(5)
    first = one_epoch()
    cr.manual_seed(5)
    np.testing.assert_array_equal(first, one_epoch())


def test_features_and_labels_stay_paired_when_shuffled():
    for x, y in DataLoader(_dataset(), batch_size=4, shuffle=True, seed=0, drop_last=True):
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy() * 3)


class _Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, index):
        return {"x": np.full(2, index, dtype=np.float32), "y": index * index, "w": 0.5, "name": f"n{index}"}


def test_generic_dataset_uses_default_collate():
    batches = list(DataLoader(_Squares(), batch_size=3))
    assert len(batches) == 3
    first = batches[0]
    assert first["x"].shape == (3, 2) and first["x"].dtype == np.float32
    assert first["y"].dtype == np.int64 and first["y"].tolist() == [0, 1, 4]
    assert first["w"].dtype == np.float64
    assert first["name"] == ["n0", "n1", "n2"]
    assert batches[-1]["y"].tolist() == [36]


def test_custom_collate_fn_and_tuple_examples():
    loader = DataLoader(_dataset(), batch_size=4, collate_fn=lambda items: len(items))
    assert list(loader) == [4, 4, 2]
    pairs = default_collate([(cr.ones(2), 1), (cr.zeros(2), 0)])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 2) and pairs[1].tolist() == [1, 0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(42)
    with pytest.raises(NotImplementedError):
        Dataset()[0]
