"""Compare what chainrule's data pipeline yields with what torch.utils.data yields for the same input."""

import numpy as np

import chainrule as cr


def to_torch(value, torch):
    """The same example for torch: chainrule tensors become torch tensors, containers are rebuilt."""
    if isinstance(value, cr.Tensor):
        return torch.from_numpy(value.numpy().copy())
    if isinstance(value, dict):
        return type(value)((key, to_torch(item, torch)) for key, item in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(to_torch(item, torch) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(item, torch) for item in value)
    return value


def assert_same(ours, theirs, torch, where="batch"):
    """Same structure, container types, tensor dtypes, shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), f"{where}: {type(ours).__name__} where torch has a Tensor"
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), \
            f"{where}: dtype {ours.dtype} vs torch {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), \
            f"{where}: shape {ours.shape} vs {tuple(theirs.shape)}"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=where)
        return
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} vs torch {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} vs {list(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], torch, f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} vs {len(theirs)}"
        for position, (mine, other) in enumerate(zip(ours, theirs)):
            assert_same(mine, other, torch, f"{where}[{position}]")
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
