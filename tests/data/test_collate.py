"""default_collate / default_convert / collate give what torch.utils.data gives, leaf types and containers."""

import collections

import numpy as np
import pytest
from torch_data_oracle import assert_same, to_torch

import chainrule as cr
from chainrule.data import default_collate, default_convert
from chainrule.errors import ShapeError
from chainrule.utils.data._utils.collate import collate, default_collate_fn_map

Point = collections.namedtuple("Point", "x y")


def _batches():
    rows = np.arange(12, dtype=np.float32).reshape(3, 4)
    return {
        "tensors float32": [cr.tensor(r) for r in rows],
        "tensors int64 2-d": [cr.tensor(np.full((2, 2), i)) for i in range(3)],
        "0-d tensors": [cr.tensor(float(i)) for i in range(4)],
        "arrays float32": list(rows),
        "arrays int32": [np.arange(3, dtype=np.int32) + i for i in range(2)],
        "arrays uint8": [np.full((2, 2), 7, dtype=np.uint8)] * 3,
        "arrays bool": [np.array([True, False]), np.array([False, False])],
        "numpy float32 scalars": [np.float32(1.5), np.float32(-2)],
        "numpy int64 scalars": [np.int64(3), np.int64(4)],
        "numpy bool scalars": [np.bool_(True), np.bool_(False)],
        "floats (float64, as torch)": [0.5, 1.25, -3.0],
        "ints": [1, 2, 3],
        "bools": [True, False, True],
        "ints then a float": [1, 2.0],
        "strings": ["a", "bb"],
        "bytes": [b"x", b"y"],
        "tuples -> list": [(cr.tensor(r), i) for i, r in enumerate(rows)],
        "lists": [[cr.tensor(r), 0.5 * i] for i, r in enumerate(rows)],
        "dicts": [{"x": r, "y": i, "name": f"n{i}"} for i, r in enumerate(rows)],
        "ordered dicts": [collections.OrderedDict(b=i, a=float(i)) for i in range(3)],
        "namedtuples": [Point(cr.tensor(r), i) for i, r in enumerate(rows)],
        "nested": [{"pair": (r, [i, i + 1]), "meta": {"id": i}} for i, r in enumerate(rows)],
    }


@pytest.mark.parametrize("name", list(_batches()))
def test_default_collate_matches_torch(name):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    batch = _batches()[name]
    assert_same(default_collate(batch), torch_collate(to_torch(batch, torch)), torch, name)


@pytest.mark.parametrize("example", [
    np.arange(3.0), np.float32(2), 3, "text", (np.arange(2), 4, "a"), [np.zeros(2, np.float32), 1.5],
    {"a": np.ones(2, np.int32), "b": (np.int64(1),)}, Point(np.arange(2), "y"), np.array(["a", "b"]),
    cr.tensor([1.0, 2.0]),
], ids=lambda e: type(e).__name__)
def test_default_convert_matches_torch(example):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert
    assert_same(default_convert(example), torch_convert(to_torch(example, torch)), torch)


def test_ragged_tensors_name_their_shapes():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    with pytest.raises(RuntimeError):
        torch_collate([torch.zeros(3), torch.zeros(4)])
    with pytest.raises(ShapeError, match=r"\(3,\) at entry 0 and \(4,\) at entry 2"):
        default_collate([cr.zeros(3), cr.zeros(3), cr.zeros(4)])
    with pytest.raises(ShapeError, match=r"\(2, 2\) at entry 0 and \(2, 3\) at entry 1"):
        default_collate([np.zeros((2, 2)), np.zeros((2, 3))])


def test_errors_are_torch_types():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    cases = [([[1, 2], [1]], RuntimeError), ([object()], TypeError), ([np.array(["a"])], TypeError),
             ([None, None], TypeError)]
    for batch, kind in cases:
        with pytest.raises(kind):
            torch_collate(batch)
        with pytest.raises(kind):
            default_collate(batch)


def test_stacking_tensors_that_require_grad_keeps_the_graph():
    weights = cr.ones(2, requires_grad=True)
    batch = default_collate([weights * 2, weights * 3])
    assert batch.requires_grad and batch.shape == (2, 2)
    batch.sum().backward()
    np.testing.assert_array_equal(weights.grad.numpy(), [5.0, 5.0])
    plain = default_collate([cr.ones(2), cr.ones(2)])
    assert not plain.requires_grad


def test_collate_with_a_custom_map_reuses_the_walk():
    def count_strings(batch, *, collate_fn_map):
        return len(batch)

    custom = {**default_collate_fn_map, str: count_strings}
    out = collate([{"name": "a", "x": 1}, {"name": "b", "x": 2}], collate_fn_map=custom)
    assert out["name"] == 2 and out["x"].tolist() == [1, 2]
    with pytest.raises(TypeError, match="found <class 'int'>"):
        collate([1, 2])   # no map: leaves are unknown


def test_batches_from_numpy_keep_memory_dtype_and_values():
    rows = [np.arange(3, dtype=np.float16) for _ in range(2)]
    out = default_collate(rows)
    assert out.dtype == np.float16 and out.shape == (2, 3)
