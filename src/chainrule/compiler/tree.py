"""Arguments and results as flat lists of leaves plus a structure: what a plan is keyed on and
what it rebuilds.

    flatten(((x, 3), {"mask": m}))  ->  leaves [x, 3, m],  structure ("tuple", [("tuple", [LEAF, LEAF]),
                                                                       ("dict", ["mask"], [LEAF])])

Tuples, lists, dicts and namedtuples are walked; everything else is a leaf. ``key_of`` turns the
leaves into a hashable signature: a tensor by (shape, dtype, requires_grad), anything else by its
type and value -- a leaf that cannot be hashed makes the call unkeyable (it runs eagerly).
"""

from __future__ import annotations

from ..tensor import Tensor

LEAF = "leaf"


class Unkeyable(Exception):
    """An argument the plan cache cannot key on (the message says which)."""


def flatten(value, leaves: list) -> object:
    """Append ``value``'s leaves to ``leaves``; return its structure."""
    kind = type(value)
    if kind is Tensor or isinstance(value, Tensor):
        leaves.append(value)
        return LEAF
    if kind is tuple or kind is list:
        return (kind.__name__, tuple(flatten(v, leaves) for v in value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):   # a namedtuple
        return ("named", kind, tuple(flatten(v, leaves) for v in value))
    if isinstance(value, dict):
        keys = tuple(value)
        return ("dict", kind, keys, tuple(flatten(value[k], leaves) for k in keys))
    leaves.append(value)
    return LEAF


def unflatten(structure, leaves) -> object:
    """Rebuild what ``flatten`` took apart from an iterator of leaves."""
    if structure is LEAF:
        return next(leaves)
    kind = structure[0]
    if kind == "tuple":
        return tuple(unflatten(s, leaves) for s in structure[1])
    if kind == "list":
        return [unflatten(s, leaves) for s in structure[1]]
    if kind == "named":
        return structure[1](*(unflatten(s, leaves) for s in structure[2]))
    _, cls, keys, parts = structure
    return cls(zip(keys, (unflatten(s, leaves) for s in parts)))


def key_of(leaves) -> tuple:
    """The leaves' part of a plan's signature (raises Unkeyable for an unhashable leaf)."""
    key = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            data = leaf._data
            key.append((data.shape, data.dtype, leaf._requires_grad))
            continue
        try:
            hash(leaf)
        except TypeError:
            raise Unkeyable(f"an argument of type {type(leaf).__name__} (not a tensor, and not hashable)") \
                from None
        key.append((type(leaf), leaf))
    return tuple(key)
