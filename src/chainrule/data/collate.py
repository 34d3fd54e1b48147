"""Collation: turn the list of examples a batch is made of into one batch (PyTorch's rules).

    default_collate([(x0, 0), (x1, 1), (x2, 0)])  ->  [stack(x0, x1, x2), tensor([0, 1, 0])]

Element type of the examples          becomes
    Tensor (shape S)                  one Tensor of shape (batch, *S)      (stacked; shapes must agree)
    NumPy array (shape S)             one Tensor of shape (batch, *S), the array's dtype
    NumPy scalar (np.float32 ...)     a 1-d Tensor of that dtype
    Python float / int / bool         a float64 / int64 / bool Tensor      (float64, as in PyTorch)
    str / bytes                       the list, unchanged
    dict (any Mapping)                the same keys, each value collated across the batch
    namedtuple                        the same namedtuple, each field collated
    tuple / list (any Sequence)       transposed, each position collated  (a tuple gives a list)

Anything else is a ``TypeError``. ``collate(batch, collate_fn_map=...)`` is the machine under
``default_collate``: it walks the containers and hands leaves to the function registered for
their type, so a custom collate can reuse it with a map of its own.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..ops import stack
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_STRING_OR_OBJECT_DTYPE = re.compile(r"[SaUO]")   # dtype.str letters of bytes, str and object arrays
_UNSUPPORTED = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                "found {}")


def _stack_arrays(arrays: list, kind: str) -> np.ndarray:
    first = arrays[0].shape
    for entry, array in enumerate(arrays):
        if array.shape != first:
            raise ShapeError(f"default_collate: cannot stack the batch's {kind}s, their shapes differ: "
                             f"{tuple(first)} at entry 0 and {tuple(array.shape)} at entry {entry}. Pad them "
                             "to one shape, or give the DataLoader a collate_fn that does")
    return np.stack(arrays)


def collate_tensor_fn(batch: Any, *, collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Tensor:
    """Stack tensors along a new first dimension (through the graph if any requires grad)."""
    if any(t.requires_grad for t in batch):
        _stack_arrays([t._data for t in batch], "tensor")   # the same shape check and message
        return stack(batch, 0)
    return Tensor._wrap(_stack_arrays([t._data for t in batch], "tensor"))


def collate_numpy_array_fn(batch: Any, *, collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Any:
    """Stack NumPy arrays into one tensor of their dtype; string and object arrays are refused."""
    if _STRING_OR_OBJECT_DTYPE.search(batch[0].dtype.str):
        raise ArgumentError(_UNSUPPORTED.format(batch[0].dtype))
    return Tensor._wrap(_stack_arrays(list(batch), "array"))


def collate_numpy_scalar_fn(batch: Any, *,
                            collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Tensor:
    """NumPy scalars become a 1-d tensor that keeps their dtype."""
    return Tensor._wrap(np.asarray(batch))


def collate_float_fn(batch: Any, *, collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Tensor:
    """Python floats become a float64 tensor, as in PyTorch (not the float32 default)."""
    return Tensor._wrap(np.asarray(batch, dtype=np.float64))


def collate_int_fn(batch: Any, *, collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Tensor:
    """Python ints become int64 and bools bool, with ``cr.tensor``'s inference for a mix."""
    return Tensor(list(batch))


def collate_str_fn(batch: Any, *, collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Any:
    """Strings and bytes stay as they are: the batch is the list of them."""
    return batch


default_collate_fn_map: dict = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def _rebuild(template: Any, values: dict) -> Any:
    """A mapping like ``template`` (same type when it can be made) holding ``values``."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:
        return values


def _rebuild_sequence(template: Any, values: list) -> Any:
    """A sequence like ``template`` holding ``values``; a tuple gives a list, as in PyTorch."""
    if isinstance(template, tuple):
        return values
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for position, value in enumerate(values):
                clone[position] = value
            return clone
        return type(template)(values)
    except TypeError:
        return values


def collate(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Collate ``batch`` (a list of examples) by walking its containers.

    A leaf goes to ``collate_fn_map[type]``, or to the first entry whose key it is an instance of
    (keys are types or tuples of types; each function is called as ``fn(batch, collate_fn_map=...)``).
    Mappings, namedtuples and sequences are walked as the module docstring says.
    """
    first = batch[0]
    if collate_fn_map is not None:
        if type(first) in collate_fn_map:
            return collate_fn_map[type(first)](batch, collate_fn_map=collate_fn_map)
        for kind, function in collate_fn_map.items():
            if isinstance(first, kind):
                return function(batch, collate_fn_map=collate_fn_map)
    if isinstance(first, collections.abc.Mapping):
        return _rebuild(first, {key: collate([example[key] for example in batch],
                                             collate_fn_map=collate_fn_map) for key in first})
    if isinstance(first, tuple) and hasattr(first, "_fields"):   # a namedtuple keeps its type
        return type(first)(*(collate(list(field), collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(example) != len(first) for example in batch):
            sizes = sorted({len(example) for example in batch})
            raise RuntimeError(f"each element in list of batch should be of equal size (default_collate got "
                               f"examples with {sizes} fields)")
        return _rebuild_sequence(first, [collate(list(field), collate_fn_map=collate_fn_map)
                                         for field in zip(*batch)])
    raise ArgumentError(_UNSUPPORTED.format(type(first)))


def default_collate(batch: Any) -> Any:
    """Put a list of examples together as one batch with a new first (batch) dimension.

    The DataLoader's collate function when it batches (``batch_size`` or ``batch_sampler`` given).
    Tensors and NumPy arrays are stacked (shapes must agree: a ragged batch raises a ``ShapeError``
    naming the shapes), Python floats become a float64 tensor, ints int64, bools bool, strings stay
    a list; dicts are collated key by key, namedtuples field by field, tuples and lists position by
    position (a tuple gives a list). ``default_collate([(x, 1), (x, 0)])`` is ``[stack, tensor([1, 0])]``.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars inside ``data`` into tensors, leaving everything else as it is.

    The DataLoader's collate function when it does not batch (``batch_size=None``): one example
    at a time, walked like ``default_collate`` walks a batch (dicts, namedtuples, sequences; a
    tuple gives a list) but nothing is stacked. String and object arrays are left as arrays.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT_DTYPE.search(data.dtype.str):
            return data
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(item) for item in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(item) for item in data])
    return data
