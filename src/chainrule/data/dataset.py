"""Datasets: anything with ``len(dataset)`` and ``dataset[i]`` giving one example."""

from __future__ import annotations

from ..errors import ShapeError
from ..tensor import Tensor


class Dataset:
    """Base class for map-style datasets: define ``__getitem__(index)`` and ``__len__()``.

    ``dataset[i]`` returns one example, usually a tuple ``(features, label)``; a ``DataLoader``
    groups examples into batches.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__(self)")


class TensorDataset(Dataset):
    """Examples made of rows of tensors that share their first dimension.

        dataset = TensorDataset(X, y)        # X: (N, features), y: (N,)
        dataset[3]                           # (X[3], y[3])

    A ``DataLoader`` over a TensorDataset takes whole batches at once by indexing the
    underlying arrays with an index array (no per-example work).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in converted]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(t.shape) for t in converted)
            raise ShapeError(f"TensorDataset: every tensor needs the same first dimension (the number of "
                             f"examples); got shapes {shapes}")
        self.tensors = converted

    def __getitem__(self, index):
        return tuple(Tensor._wrap(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(t.shape) for t in self.tensors)})"
