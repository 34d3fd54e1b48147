"""The graph ``explain`` writes about, the names it gives its values, and its own walk of the
backward pass (both write-ups, the backward pass of explain.py and the forward mode of
explain_forward.py, use these).

Names: a tensor's own ``name``, a name the caller gave (a dict, or a Module's parameter names),
or one made from the op (wx for w × x, diff for a difference, exp for an exponential...); an
unnamed scalar constant is written as its value; the output is L.
"""

from __future__ import annotations

from ..backend import np
from ..engine import _sum_to_shape, _topological_order
from ..errors import GraphError
from ..ops.namespaces import ARRAYS
from ..tensor import Tensor
from .writer import show_value

AUTO_NAMES = {"sub": "diff", "add": "add", "div": "ratio", "matmul": "mm", "pow": "pow", "neg": "neg"}


def _graph(root: Tensor):
    """The nodes reachable from ``root`` in forward order (inputs before the ops that use them),
    the tensor each node produced, and the leaves in order of first use (iterative walk)."""
    try:
        order = [t._node for t in _topological_order([root])[::-1]]
    except GraphError:
        raise GraphError(
            "explain: the graph was freed by an earlier backward(); call explain before backward(), "
            "or pass retain_graph=True to backward()") from None
    tensor_of = {root._node: root, None: root}  # (None: the root, for whoever asks "is this the output?")
    leaves, leaf_ids = [], set()
    for node in order:
        for t in node.inputs:
            if t._node is not None:
                tensor_of.setdefault(t._node, t)
            elif id(t) not in leaf_ids:
                leaf_ids.add(id(t))
                leaves.append(t)
    return order, tensor_of, leaves


def _given_names(names) -> dict:
    """{id(tensor): name} from a dict {tensor: name} or a Module (its parameter names)."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        return {id(p): n for n, p in names.named_parameters()}
    return {id(t): str(n) for t, n in dict(names).items()}


class _Namer:
    """Readable, unique names: the tensor's ``name``, then a name from the op (wx, diff, exp)."""

    def __init__(self, given: dict):
        self.given, self.used, self.by_id = given, set(), {}

    def unique(self, base: str) -> str:
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def assign(self, t: Tensor, base: str | None) -> None:
        chosen = t.name or self.given.get(id(t)) or base
        self.by_id[id(t)] = None if chosen is None else self.unique(chosen)

    def __call__(self, t: Tensor):
        return self.by_id.get(id(t))


def _name_graph(root, order, tensor_of, leaves, given) -> _Namer:
    namer = _Namer(given)
    for t in leaves:  # an unnamed scalar constant is written as its value
        constant_scalar = not t.requires_grad and t._data.size == 1
        base = None if constant_scalar else ("leaf" if t.requires_grad else "const")
        namer.assign(t, base)
    for node in order:
        t = tensor_of[node]
        if t is root:
            continue
        base = AUTO_NAMES.get(node.prim.name, node.prim.name)
        if node.prim.name == "mul":
            parts = [namer(i) for i in node.inputs]
            if all(p is not None and p.isalnum() and len(p) <= 3 for p in parts):
                base = "".join(parts)
        namer.assign(t, base)
    namer.assign(root, "L")
    return namer


def _local_values(node, index: int):
    """d(output)/d(input ``index``) element by element (an element-wise op's local derivative)."""
    values = [t._data for t in node.inputs]
    ones = np.ones_like(node.output)
    local = node.prim.vjps[index](ARRAYS, ones, node.output, *values, **node.params)
    return np.asarray(local)


def _written(N, namer, t: Tensor) -> str:
    name = namer(t)
    return N.name(name) if name is not None else show_value(N, t._data)


def _backward_walk(root: Tensor, order: list, seed=None):
    """dL/d(every tensor), contribution by contribution, with the VJPs of the derivative table,
    starting from dL/d(root) = ``seed`` (ones by default) and walking only the nodes of ``order``.

    Returns ({node: dL/d(its output)}, {id(leaf): dL/d(leaf)}, {(node, i): the part of
    dL/d(input i) that came through this node})."""
    node_grads = {root._node: np.ones_like(root._data) if seed is None else seed}
    leaf_grads, contributions = {}, {}
    for node in reversed(order):
        upstream = node_grads.get(node)
        if upstream is None:
            continue
        values = [t._data for t in node.inputs]
        needs = [t.requires_grad for t in node.inputs]
        prim = node.prim
        if prim.vjp_all is not None:
            input_grads = prim.vjp_all(ARRAYS, upstream, node.output, values, needs, **node.params)
        else:
            input_grads = [vjp(ARRAYS, upstream, node.output, *values, **node.params) if need else None
                           for vjp, need in zip(prim.vjps, needs)]
        for i, (t, grad) in enumerate(zip(node.inputs, input_grads)):
            if grad is None or not t.requires_grad:
                continue
            grad = np.asarray(grad)
            if grad.shape != t._data.shape:
                grad = _sum_to_shape(grad, t._data.shape)
            contributions[(node, i)] = grad
            table, key = (leaf_grads, id(t)) if t._node is None else (node_grads, t._node)
            table[key] = grad if key not in table else table[key] + grad
    return node_grads, leaf_grads, contributions
