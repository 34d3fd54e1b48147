"""Nested arguments and results ("pytrees", as JAX and torch.func call them): tuples, lists,
dicts and named tuples of Tensors, to any depth. The transforms work on the flat list of the
Tensors inside and rebuild the structure around their results; anything that is not a Tensor
(a number, a string, None) rides along in the structure, untouched.

    leaves, spec = flatten({"w": w, "b": (b, 3)})     # leaves = [w, b]
    unflatten([2 * w, 2 * b], spec)                   # {"w": 2w, "b": (2b, 3)}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any


LEAF = "leaf"


def flatten(tree: Any) -> tuple[list[Any], Any]:
    """(the Tensors in ``tree``, depth first and in order; the structure to rebuild it)."""
    leaves: list = []
    return leaves, _spec(tree, leaves)


def _spec(tree: Any, leaves: list) -> Any:
    if isinstance(tree, Tensor):
        leaves.append(tree)
        return LEAF
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):   # a named tuple
        return ("namedtuple", type(tree), [_spec(item, leaves) for item in tree])
    if isinstance(tree, (tuple, list)):
        return (type(tree).__name__, None, [_spec(item, leaves) for item in tree])
    if isinstance(tree, dict):
        keys = list(tree)
        return ("dict", keys, [_spec(tree[key], leaves) for key in keys])
    return ("constant", tree, None)


def unflatten(leaves: Sequence[Any], spec: Any) -> Any:
    """The structure ``spec`` (from ``flatten``) rebuilt around ``leaves``, in order."""
    iterator = iter(leaves)
    tree = _build(iterator, spec)
    if next(iterator, None) is not None:
        raise ValueError("unflatten: more leaves than the structure holds")
    return tree


def _build(leaves: Iterator[Any], spec: Any) -> Any:
    if spec == LEAF:
        return next(leaves)
    kind, extra, children = spec
    if kind == "constant":
        return extra
    items = [_build(leaves, child) for child in children]
    if kind == "namedtuple":
        return extra(*items)
    if kind == "dict":
        return dict(zip(extra, items))
    return tuple(items) if kind == "tuple" else items


def same_structure(a: Any, b: Any) -> bool:
    """True when two specs hold Tensors at the same places (the constants may differ)."""
    if a == LEAF or b == LEAF:
        return a == b
    if a[0] != b[0]:
        return False
    if a[0] == "constant":
        return True
    if a[0] == "dict" and a[1] != b[1]:
        return False
    return len(a[2]) == len(b[2]) and all(same_structure(x, y) for x, y in zip(a[2], b[2]))


def holds_constants(spec: Any) -> bool:
    """Whether something other than a Tensor sits in the structure (a number, None...)."""
    if spec == LEAF:
        return False
    return spec[0] == "constant" or any(holds_constants(child) for child in spec[2])
