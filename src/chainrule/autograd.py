"""The engine: graph nodes, grad mode, and the reverse walk that applies the chain rule.

Forward: ``apply(prim, inputs, params)`` computes a primitive on the inputs' arrays and, when
any input requires grad (and grad mode is on), records a ``Node`` that remembers the
primitive, its inputs and its output.

Backward: ``backward(root)`` orders the nodes reachable from ``root`` (iteratively, so a
100,000-node chain is fine), then visits them from the root down. At each node it has
dL/d(output) and asks the primitive's vector-Jacobian products for dL/d(input_i):

        dL/d(input_i) = VJP_i(dL/d(output))        (the chain rule, one node at a time)

Gradients of inputs that were broadcast are summed back to the input's shape here, in one
place, so no op has to. Gradients reaching a value used twice are added. Leaves accumulate
into ``.grad`` (PyTorch semantics). Unless ``retain_graph`` is set, each node's inputs and saved
output are dropped once it has been used, so the intermediate arrays are freed.

With ``create_graph=True`` the VJPs run on Tensors instead of arrays, so the backward pass is
itself recorded and can be differentiated again (higher-order gradients).
"""

from __future__ import annotations

import gc
import traceback
import weakref

from .backend import np
from .errors import AnomalyError, DTypeError, GraphError, ShapeError, describe
from .grad_mode import (  # noqa: F401 - the engine's public switches live there
    _mode,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .tensor import Tensor


# --- primitives and nodes ---------------------------------------------------------------------
class Primitive:
    """One row of the derivative table: a forward function on arrays and one VJP per input.

    ``forward(*arrays, **params) -> array``
    ``vjps[i](xp, grad_output, output, *inputs, **params) -> dL/d(input_i)``
    ``vjp_all(xp, grad_output, output, inputs, needs, **params) -> list`` for variadic ops.
    ``xp`` is the math namespace: NumPy-like functions on arrays, or on Tensors when the
    backward pass is being recorded (create_graph=True).
    """

    __slots__ = ("name", "forward", "vjps", "vjp_all")

    def __init__(self, name, forward, *vjps, vjp_all=None):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.vjp_all = vjp_all

    def __call__(self, *inputs, **params):
        return apply(self, inputs, params)

    def __repr__(self):
        return f"<primitive {self.name}>"


class Node:
    """A recorded application of a primitive: what backward needs to apply the chain rule.

    One or two inputs are kept in slots (``first``, ``second``), more in a tuple (``many``):
    every object a node keeps is one more for Python's cycle collector to scan, and on a
    50,000-op graph those scans cost more than the arithmetic. ``inputs`` gives them as a
    tuple, or None once backward has freed the node. ``version_sum`` is the sum of the inputs'
    version counters at forward time: versions only grow, so an equal sum means none changed.
    """

    __slots__ = ("prim", "first", "second", "many", "params", "output", "version_sum", "hooks",
                 "retained", "trace")

    def __init__(self, prim, inputs, params, output):
        self.prim = prim
        count = len(inputs)
        self.first = inputs[0] if count else None
        self.second = inputs[1] if count == 2 else None
        self.many = inputs if count > 2 or count == 0 else None
        self.params = params
        self.output = output
        self.version_sum = sum([t._version for t in inputs])
        self.hooks = None
        self.retained = None
        self.trace = traceback.format_stack(limit=12)[:-3] if _mode.anomaly else None

    @property
    def inputs(self):
        if self.many is not None:
            return self.many
        if self.first is None:
            return None
        return (self.first,) if self.second is None else (self.first, self.second)

    def free(self) -> None:
        """Drop the inputs and the saved output: the graph below is released."""
        self.first = self.second = self.many = self.output = None

    @property
    def name(self) -> str:
        return "".join(part.capitalize() for part in self.prim.name.split("_")) + "Backward"

    def __repr__(self):
        return f"<{self.name}>"


class IndexOutOfRange(ShapeError, IndexError):
    """An index outside a tensor's shape."""


def _forward_error(prim, inputs, params, err):
    shown = {k: v for k, v in params.items() if not isinstance(v, np.ndarray)}
    detail = f" with {shown}" if shown else ""
    kind = IndexOutOfRange if isinstance(err, IndexError) else (
        DTypeError if isinstance(err, TypeError) else ShapeError)
    return kind(f"{prim.name}: cannot apply to inputs of shape/dtype ({describe(inputs)}){detail}: {err}")


def _check_finite(array, what: str, node_or_prim, inputs) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        name = node_or_prim.prim.name if isinstance(node_or_prim, Node) else node_or_prim.name
        where = ""
        if isinstance(node_or_prim, Node) and node_or_prim.trace:
            where = "\nThe forward of this op was called at:\n" + "".join(node_or_prim.trace)
        raise AnomalyError(f"{what} of '{name}' (inputs {describe(inputs)}) produced NaN or Inf{where}")


def apply(prim: Primitive, inputs: tuple, params: dict) -> Tensor:
    """Run ``prim`` forward on the inputs' data and record a Node when a gradient is needed."""
    try:
        out = prim.forward(*[t.data for t in inputs], **params)
    except (ValueError, TypeError, IndexError) as err:
        raise _forward_error(prim, inputs, params, err) from None
    if _mode.anomaly:
        _check_finite(np.asarray(out), "the forward", prim, inputs)
    if _mode.grad_enabled:
        for t in inputs:
            if t.requires_grad:
                result = Tensor._wrap(out, True)
                result._node = Node(prim, inputs, params, out)
                return result
    return Tensor._wrap(out)


# --- the reverse walk -------------------------------------------------------------------------
class _Namespaces:
    """The math namespaces VJPs run with: arrays (plain backward) or Tensors (create_graph).
    ``chainrule.ops`` registers both when it is imported."""

    arrays = None
    tensors = None


def register_namespaces(arrays, tensors) -> None:
    _Namespaces.arrays = arrays
    _Namespaces.tensors = tensors


def _freed_error(node) -> GraphError:
    return GraphError(
        f"trying to backward through the graph a second time (through '{node.prim.name}'): its saved "
        "values were freed by the first backward. Pass retain_graph=True to the first backward() "
        "(or cr.grad) if you need to go through the graph twice."
    )


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each after every node that consumes it (iterative DFS;
    a node's first input is explored first, so read backwards the order follows the forward)."""
    post_order, visited = [], set()
    stack = [(node, False) for node in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            post_order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        inputs = node.inputs
        if inputs is None:
            raise _freed_error(node)
        stack.append((node, True))
        for t in reversed(inputs):
            child = t._node
            if child is not None and t.requires_grad and child not in visited:
                stack.append((child, False))
    post_order.reverse()
    return post_order


def _sum_to_shape(grad, shape):
    """Undo broadcasting: sum ``grad`` over the axes along which an input of ``shape`` was stretched."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra or grad.shape != tuple(shape):
        grad = grad.reshape(shape)
    return grad


def _as_grad(value, like, create_graph):
    """A hook's return value or a user gradient as the engine's representation."""
    if isinstance(value, Tensor):
        return value if create_graph else value.data
    array = np.asarray(value, dtype=like.dtype)
    return Tensor._wrap(array) if create_graph else array


def _run(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate gradients from ``roots``. Returns {leaf tensor: grad} and fills ``capture``
    ({node: grad}) for the non-leaf tensors whose gradient was asked for.

    The walk makes no reference cycles, so Python's cycle collector is paused while it runs:
    on a deep graph it would otherwise rescan every live node again and again for nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _walk(roots, root_grads, retain_graph, create_graph, capture)
    finally:
        if collecting:
            gc.enable()


def _walk(roots, root_grads, retain_graph, create_graph, capture):
    xp = _Namespaces.tensors if create_graph else _Namespaces.arrays
    node_grads, leaf_grads = {}, {}
    for root, grad in zip(roots, root_grads):
        table, key = (leaf_grads, root) if root._node is None else (node_grads, root._node)
        table[key] = grad if key not in table else table[key] + grad
    order = _topological_order([r._node for r in roots if r._node is not None])
    anomaly = _mode.anomaly
    for node in order:
        grad_output = node_grads.pop(node, None)
        if grad_output is None:
            continue
        if node.hooks:
            for hook in node.hooks:
                returned = hook(grad_output if create_graph else Tensor._wrap(grad_output))
                if returned is not None:
                    grad_output = _as_grad(returned, node.output, create_graph)
        if node.retained is not None:
            kept = node.retained()
            if kept is not None:
                kept.grad = grad_output if create_graph else Tensor._wrap(grad_output.copy())
        if capture is not None and node in capture:
            capture[node] = grad_output
        inputs, prim, params = node.inputs, node.prim, node.params
        if inputs is None:
            raise _freed_error(node)
        if sum([t._version for t in inputs]) != node.version_sum:
            raise GraphError(
                f"an input of '{prim.name}' (inputs {describe(inputs)}) needed by its backward was "
                "modified in place after the forward pass; use an out-of-place op (x = x + y) instead")
        if create_graph:
            values, output = inputs, apply(prim, inputs, params)
        else:
            values, output = [t.data for t in inputs], node.output
        if prim.vjp_all is None:  # one VJP per input: run only those whose input needs a gradient
            pairs = [(t, vjp(xp, grad_output, output, *values, **params))
                     for t, vjp in zip(inputs, prim.vjps) if t.requires_grad]
        else:
            needs = [t.requires_grad for t in inputs]
            input_grads = prim.vjp_all(xp, grad_output, output, values, needs, **params)
            pairs = [(t, g) for t, g in zip(inputs, input_grads) if g is not None and t.requires_grad]
        for t, grad in pairs:
            if grad.shape != t.data.shape:
                grad = _sum_to_shape(grad, t.data.shape)
            if grad.dtype != t.data.dtype:
                grad = grad.to(t.data.dtype) if create_graph else grad.astype(t.data.dtype)
            if anomaly:
                _check_finite(grad.data if create_graph else grad, "the backward", node, inputs)
            table, key = (leaf_grads, t) if t._node is None else (node_grads, t._node)
            previous = table.get(key)
            table[key] = grad if previous is None else previous + grad
        if not retain_graph:
            node.free()
    return leaf_grads


def _root_grad(root: Tensor, gradient, create_graph: bool):
    if gradient is None:
        if root.data.size != 1:
            raise GraphError(
                f"backward() on a tensor of shape {root.shape} needs a gradient argument: the gradient "
                "can only be created implicitly for a scalar (one-element) output")
        array = np.ones_like(root.data)
    else:
        array = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)
        if array.shape != root.shape:
            raise ShapeError(f"backward(): gradient of shape {array.shape} does not match the output "
                             f"shape {root.shape}")
    if create_graph and isinstance(gradient, Tensor):
        return gradient
    return Tensor._wrap(array) if create_graph else array


def _check_root(root: Tensor, position: str) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"{position} must be a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise GraphError(f"{position} (shape {root.shape}) does not require grad and has no graph: "
                         "nothing to differentiate (did you forget requires_grad=True, or compute it "
                         "under no_grad?)")


def backward(tensor: Tensor, gradient=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (times ``gradient`` if given)."""
    _check_root(tensor, "backward(): the output")
    retain = create_graph if retain_graph is None else retain_graph
    root_grad = _root_grad(tensor, gradient, create_graph)
    with set_grad_enabled(create_graph):
        leaf_grads = _run([tensor], [root_grad], retain, create_graph)
        handed_out = set()
        for leaf, grad in leaf_grads.items():
            _accumulate_leaf(leaf, grad, create_graph, handed_out)


def _accumulate_leaf(leaf: Tensor, grad, create_graph: bool, handed_out: set) -> None:
    if leaf._hooks:
        for hook in leaf._hooks:
            returned = hook(grad if create_graph else Tensor._wrap(grad))
            if returned is not None:
                grad = _as_grad(returned, leaf.data, create_graph)
    if create_graph:
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        return
    if leaf.grad is None:
        # never store an array another leaf may share (pass-through VJPs such as add) or a view
        owned = grad.flags.owndata and grad.flags.writeable and id(grad) not in handed_out
        handed_out.add(id(grad))
        leaf.grad = Tensor._wrap(grad if owned else grad.copy())
    else:
        leaf.grad = Tensor._wrap(leaf.grad.data + grad)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``."""
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, out in enumerate(outputs):
        _check_root(out, f"cr.grad: output {i}")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise GraphError(f"cr.grad: input {i} does not require grad, so it has no gradient")
    retain = create_graph if retain_graph is None else retain_graph
    roots = [_root_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    capture = {t._node: None for t in inputs if t._node is not None}
    with set_grad_enabled(create_graph):
        leaf_grads = _run(outputs, roots, retain, create_graph, capture)
    results = []
    for i, t in enumerate(inputs):
        value = leaf_grads.get(t) if t._node is None else capture.get(t._node)
        if value is None and t in outputs:
            value = roots[outputs.index(t)]
        if value is None:
            if not allow_unused:
                raise GraphError(f"cr.grad: input {i} (shape {t.shape}) was not used to compute the "
                                 "outputs; pass allow_unused=True to get None for it")
            results.append(None)
            continue
        results.append(value if create_graph else Tensor._wrap(np.array(value, copy=True)))
    return tuple(results)


def register_hook(tensor: Tensor, hook):
    """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
    if not tensor.requires_grad:
        raise GraphError(f"cannot register a hook on a tensor (shape {tensor.shape}) that does not "
                         "require grad")
    if tensor._node is None:
        tensor._hooks = (tensor._hooks or []) + [hook]
    else:
        tensor._node.hooks = (tensor._node.hooks or []) + [hook]
    return hook


def retain_grad(tensor: Tensor) -> None:
    """Keep ``.grad`` on a non-leaf tensor after backward (leaves always keep theirs)."""
    if tensor._node is not None:
        tensor._node.retained = weakref.ref(tensor)
