"""DataLoader against torch.utils.data.DataLoader: the same batches, len() and argument rules."""

import numpy as np
import pytest
from torch_data_oracle import assert_same, to_torch

import chainrule as cr
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, get_worker_info


def _pair(module):
    """A map-style dataset class built on ``module``'s Dataset: example i is (array of i, i)."""
    class Pairs(module.Dataset):
        def __init__(self, count=10):
            self.count = count

        def __len__(self):
            return self.count

        def __getitem__(self, index):
            return np.full(2, index, dtype=np.float32), index
    return Pairs


def _stream(module, sized):
    class Stream(module.IterableDataset):
        def __iter__(self):
            return iter({"x": float(i), "i": i} for i in range(7))
    if sized:
        Stream.__len__ = lambda self: 7
    return Stream


CONFIGS = [dict(batch_size=1), dict(batch_size=3), dict(batch_size=4, drop_last=True), dict(batch_size=10),
           dict(batch_size=12, drop_last=True), dict(batch_size=None),
           dict(batch_sampler=[[3, 1], [0], [9, 8, 7]]),
           dict(sampler=[4, 2, 0], batch_size=2), dict(sampler=[4, 2, 0], batch_size=None),
           dict(batch_size=3, collate_fn=lambda batch: [b[1] for b in batch]),
           dict(batch_size=4, num_workers=2, pin_memory=True, persistent_workers=True, prefetch_factor=3)]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_map_style_batches_and_len_match_torch(config):
    torch = pytest.importorskip("torch")
    ours = DataLoader(_pair(cr.data)(), **config)
    torch_config = {k: v for k, v in config.items() if k not in ("num_workers", "persistent_workers",
                                                                 "prefetch_factor", "pin_memory")}
    theirs = torch.utils.data.DataLoader(_pair(torch.utils.data)(), **torch_config)
    assert len(ours) == len(theirs)
    ours_batches, their_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(their_batches) == len(ours)
    for position, (mine, other) in enumerate(zip(ours_batches, their_batches)):
        assert_same(mine, other, torch, f"batch {position}")


STREAM_CONFIGS = [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                  dict(batch_size=7), dict(batch_size=8, drop_last=True)]


@pytest.mark.parametrize("config", STREAM_CONFIGS, ids=str)
@pytest.mark.parametrize("sized", [True, False])
def test_iterable_dataset_batches_match_torch(config, sized):
    torch = pytest.importorskip("torch")
    ours = DataLoader(_stream(cr.data, sized)(), **config)
    theirs = torch.utils.data.DataLoader(_stream(torch.utils.data, sized)(), **config)
    for position, (mine, other) in enumerate(zip(list(ours), list(theirs), strict=True)):
        assert_same(mine, other, torch, f"batch {position}")
    if sized:
        assert len(ours) == len(theirs)
    else:
        with pytest.raises(TypeError):
            len(ours)


def test_tensor_dataset_fast_path_gives_torchs_batches():
    torch = pytest.importorskip("torch")
    X, y = cr.randn(23, 3, dtype=cr.float64), cr.arange(23)
    for config in (dict(batch_size=5), dict(batch_size=5, drop_last=True), dict(batch_size=None)):
        ours = list(DataLoader(TensorDataset(X, y), **config))
        theirs = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*to_torch((X, y), torch)),
                                                  **config))
        assert_same(ours, theirs, torch, str(config))


def test_fast_path_equals_the_example_by_example_path():
    class Counted(TensorDataset):      # its own __getitem__: the loader must call it per example
        calls = 0

        def __getitem__(self, index):
            Counted.calls += 1
            return super().__getitem__(index)

    X, y = cr.randn(30, 2), cr.arange(30)
    plain = TensorDataset(X, y)
    for make in (lambda d: d, lambda d: Subset(d, list(range(29, -1, -3)))):
        fast = list(DataLoader(make(plain), batch_size=4, shuffle=True, seed=9))
        slow = list(DataLoader(make(Counted(X, y)), batch_size=4, shuffle=True, seed=9))
        assert len(fast) == len(slow)
        for (fx, fy), (sx, sy) in zip(fast, slow):
            np.testing.assert_array_equal(fx.numpy(), sx.numpy())
            np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    assert Counted.calls == 30 + 10


@pytest.mark.parametrize("kwargs", [
    dict(shuffle=True, sampler=[0, 1]), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True), dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(num_workers=2, prefetch_factor=-1), dict(persistent_workers=True), dict(batch_size=0),
    dict(batch_size=True), dict(drop_last="yes"),
], ids=str)
def test_invalid_arguments_raise_value_error_as_torch(kwargs):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(_pair(torch.utils.data)(), **kwargs)
    with pytest.raises(ValueError):
        DataLoader(_pair(cr.data)(), **kwargs)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])],
                         ids=str)
def test_iterable_dataset_refuses_orders(kwargs):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="IterableDataset"):
        torch.utils.data.DataLoader(_stream(torch.utils.data, True)(), **kwargs)
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(_stream(cr.data, True)(), **kwargs)


def test_attributes_fixed_after_construction_and_defaults():
    loader = DataLoader(_pair(cr.data)(), batch_size=4, num_workers=3)
    for name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set"):
            setattr(loader, name, None)
    loader.num_workers = 0   # other attributes stay settable, as in torch
    assert loader.prefetch_factor == 2 and loader.batch_sampler.batch_size == 4
    assert type(loader.sampler).__name__ == "SequentialSampler"
    shuffled = DataLoader(_pair(cr.data)(), shuffle=True, generator=cr.Generator().manual_seed(0))
    assert type(shuffled.sampler).__name__ == "RandomSampler"
    assert shuffled.sampler.generator is shuffled.generator


def test_workers_run_in_process_and_get_worker_info_is_none():
    seen, called = [], []

    class Watching(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            seen.append(get_worker_info())
            return index

    loader = DataLoader(Watching(), batch_size=2, num_workers=4, worker_init_fn=called.append, timeout=5)
    batches = list(loader)
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3]]
    assert seen == [None] * 4 and called == []


def test_seed_and_generator_give_the_same_orders_and_the_old_stream():
    X, y = cr.zeros(10, 1), cr.arange(10)

    def epochs(loader, count=3):
        return [np.concatenate([b[1].numpy() for b in loader]) for _ in range(count)]

    by_seed = epochs(DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, seed=11))
    by_generator = epochs(DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True,
                                     generator=cr.Generator().manual_seed(11)))
    old_stream = np.random.default_rng(11)       # what seed= drew before samplers existed
    for ours, again in zip(by_seed, by_generator):
        np.testing.assert_array_equal(ours, again)
        np.testing.assert_array_equal(ours, old_stream.permutation(10))
    with pytest.raises(ValueError, match="seed= or generator="):
        DataLoader(TensorDataset(X, y), seed=1, generator=cr.Generator())


def test_getitems_is_used_for_whole_batches():
    class Batched(Dataset):
        requests = []

        def __len__(self):
            return 5

        def __getitem__(self, index):
            raise AssertionError("the loader should ask for whole batches")

        def __getitems__(self, indices):
            Batched.requests.append(list(indices))
            return [float(i) for i in indices]

    batches = list(DataLoader(Batched(), batch_size=2))
    assert Batched.requests == [[0, 1], [2, 3], [4]]
    assert batches[0].dtype == np.float64 and batches[2].tolist() == [4.0]

