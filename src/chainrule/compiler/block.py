"""A replayed call as one node of the graph: the compiled block.

``call(plan, leaves)`` runs the plan's generated forward inside ``primitive.apply`` with a primitive
made for the plan -- ``CompiledFunction`` -- whose inputs are the tensors that receive a gradient
(the arguments and parameters the plan found). So the result is an ordinary tensor whose
``grad_fn`` is ``<CompiledFunctionBackward>``: the loss built on it, ``backward()``, ``cr.grad``,
leaf hooks, optimisers and ``explain`` see one node, and its VJP is the plan's generated backward:

    dL/d(block inputs) = backward(dL/d(outputs), values saved by this call's forward)

Each call gets a ``Frame`` (the node's only param): the values this call's backward reads, so two
forward calls before one backward (two losses added up) each keep their own.

Several outputs that need a gradient are packed into one object array and each picked out by its
own small node, as a custom autograd.Function with several outputs is (function.py).

Under ``create_graph=True`` the VJP must itself be differentiable: the block then re-runs its ops
through ``apply`` on tensors (an ordinary recorded graph, from the same inputs; values drawn at
random are taken from the forward) and differentiates that with ``cr.grad(create_graph=True)``.
"""

from __future__ import annotations

from .. import autograd
from ..autograd import IntoGrad
from ..backend import np
from ..errors import GraphError
from ..function import _PICK
from ..grad_mode import _mode, enable_grad
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .check import compare_grads
from .leaves import LeafGradients


class Frame:
    """One call's own state: its arguments' arrays, and what its backward reads."""

    __slots__ = ("plan", "arrays", "saved", "outputs", "node_inputs", "eager")

    def __init__(self, plan, arrays):
        self.plan, self.arrays = plan, arrays
        self.saved = self.outputs = self.node_inputs = self.eager = None


def _block_forward(*node_arrays, frame):
    plan = frame.plan
    frame.outputs, frame.saved = plan.forward(frame.arrays, plan.refs)
    values = frame.outputs
    slots = plan.grad_positions
    if len(slots) == 1:
        return values[slots[0]]
    packed = np.empty(len(slots), dtype=object)
    packed[:] = [values[p] for p in slots]
    return packed


def _block_vjp(xp, g, y, inputs, needs, frame):
    plan = frame.plan
    if len(plan.grad_positions) == 1:
        grads = [g]
    else:
        if isinstance(g, Tensor):
            raise GraphError("create_graph=True through a compiled call with several outputs that need a "
                             "gradient is not supported; compile a function with one such output")
        grads = [None if isinstance(v, (int, float)) and v == 0 else v for v in g]
    if isinstance(g, Tensor):
        return _recorded_grads(frame, g, inputs, needs)
    leaves = plan.leaves
    into_grad = IntoGrad.now
    result = plan.backward(grads, frame.saved, leaves.homes() if into_grad else leaves.none)
    if frame.eager is not None:
        compare_grads(frame, grads, result)
    return leaves.deliver(result) if into_grad else result


def make_leaves(plan) -> LeafGradients:
    """The delivery of the plan's leaf gradients (leaves.py): the parameters among its inputs."""
    return LeafGradients([plan.refs[i] if kind == "ref" else None for kind, i in plan.node_bindings])


def make_block(plan) -> Primitive:
    """The plan's primitive. What its backward reads is known exactly: the saved arrays of its inputs
    (so an in-place change of one of them before backward is refused, as in eager mode)."""
    block = Primitive("CompiledFunction", _block_forward, vjp_all=_block_vjp)
    saved = set(plan.saved)
    block.reads_output = False
    block.reads_inputs = frozenset(n for n, b in enumerate(plan.node_bindings) if b in saved)
    block.reads_nothing = False
    return block


def call(plan, leaves: list):
    """Replay ``plan`` on the flattened arguments; the result leaves (tensors where the recording
    returned tensors). ``frame`` is returned too (check mode compares through it)."""
    arrays = [leaf._data if leaf.__class__ is Tensor or isinstance(leaf, Tensor) else None for leaf in leaves]
    frame = Frame(plan, arrays)
    if _mode.grad_enabled and plan.grad_positions:
        node_inputs = [leaves[i] if kind == "arg" else plan.refs[i] for kind, i in plan.node_bindings]
        frame.node_inputs = node_inputs
        result = apply(plan.block, node_inputs, {"frame": frame})
        if len(plan.grad_positions) == 1:
            picked = [result]
        else:
            picked = [apply(_PICK, (result,), {"slot": s, "count": len(plan.grad_positions)})
                      for s in range(len(plan.grad_positions))]
    else:
        frame.outputs, frame.saved = plan.forward(arrays, plan.refs)
        frame.saved = None
        picked = None
    return _output_leaves(plan, leaves, frame.outputs, picked), frame


def _output_leaves(plan, leaves, values, picked) -> list:
    out, next_pick = [], 0
    for position, binding in enumerate(plan.output_bindings):
        kind = binding[0]
        if kind == "slot":
            if picked is not None and position in plan.grad_position_set:
                out.append(picked[next_pick])
                next_pick += 1
            else:
                out.append(Tensor._wrap(values[position]))
        elif kind == "arg":
            out.append(leaves[binding[1]])
        elif kind == "ref":
            out.append(plan.refs[binding[1]])
        else:
            out.append(binding[1])
    return out


def _recorded_grads(frame, g, inputs, needs) -> list:
    """create_graph: the block's ops again as a recorded graph on ``inputs``, differentiated."""
    plan = frame.plan
    saved = dict(zip(plan.saved, frame.saved))
    node_of = {b: t for b, t in zip(plan.node_bindings, inputs)}
    values = {}

    def tensor(binding):
        kind = binding[0]
        if binding[:2] in node_of:
            return node_of[binding[:2]]
        if kind == "slot":
            return values[binding[1]]
        if kind == "arg":
            return Tensor._wrap(frame.arrays[binding[1]])
        return plan.refs[binding[1]]

    def param(binding):
        kind = binding[0]
        if kind == "const":
            return binding[1]
        if kind in ("tuple", "list"):
            parts = [param(b) for b in binding[1]]
            return tuple(parts) if kind == "tuple" else parts
        return tensor(binding)._data

    with enable_grad():
        for op in plan.ops:
            if not op.inputs and ("slot", op.index) in saved:   # drawn at random: the forward's value
                values[op.index] = Tensor._wrap(saved[("slot", op.index)])
                continue
            values[op.index] = apply(op.prim, tuple(tensor(b) for b in op.inputs),
                                     {name: param(b) for name, b in op.params.items()})
    output = values[plan.grad_output_slots[0]]
    wanted = [t for t, need in zip(inputs, needs) if need]
    found = autograd.grad(output, wanted, grad_outputs=g, create_graph=True, allow_unused=True)
    found = iter(found)
    return [next(found) if need else None for need in needs]
