"""A plan: what one recording (trace.py) becomes, ready to be replayed.

From the recorded ops and the forward's results the plan works out, once:

- the backward order: the ops the gradient reaches from the outputs, in the order the engine's
  walk (engine._topological_order) would visit their nodes -- the same depth-first search, run
  on the recording -- so gradients add up in the same order as in eager mode;
- the block's inputs: the arguments and parameters that receive a gradient. The compiled call is
  one graph node (block.py) whose inputs are these tensors, so a leaf's ``.grad`` accumulates, its
  hooks run, and ``cr.grad`` finds it, as for any node;
- what the backward reads: each op's VJPs read only some of their operands (``prim.reads_output``,
  ``prim.reads_input``, read off the VJPs' bytecode by the engine). Only those values are kept from
  the forward; the others are stood in for by zero-size broadcast arrays of the right shape and
  dtype (all a VJP may ask of them);
- the code (codegen.py).
"""

from __future__ import annotations

from ..backend import np
from . import codegen
from .block import make_block, make_leaves
from .buffers import BufferPool
from .watch import data_of


class Plan:
    """The replayable form of one forward pass (for one signature)."""

    def __init__(self, tracer, output_bindings: list, arguments: list, name: str):
        self.name = name
        self.ops = tracer.ops
        self.refs = tracer.refs
        self.output_bindings = output_bindings
        self._arrays = {("arg", k): (data_of(t).shape, data_of(t).dtype) for k, t in enumerate(arguments)
                        if hasattr(t, "_requires_grad")}
        self._arrays.update({("ref", j): (data_of(t).shape, data_of(t).dtype)
                             for j, t in enumerate(self.refs)})
        self._stand_ins: dict = {}
        # the outputs that go through the block node (values that need a gradient), by position
        self.grad_positions = [p for p, b in enumerate(output_bindings)
                               if b[0] == "slot" and self.ops[b[1]].needs_grad]
        self.grad_position_set = set(self.grad_positions)
        self.grad_output_slots = [output_bindings[p][1] for p in self.grad_positions]
        self.order = backward_order(self.ops, list(dict.fromkeys(self.grad_output_slots)))
        self.node_bindings = []
        for index in sorted(self.order):
            op = self.ops[index]
            for binding, wanted in zip(op.inputs, op.input_grads):
                if wanted and binding[0] in ("arg", "ref") and binding not in self.node_bindings:
                    self.node_bindings.append(binding)
        self.node_index = {b: n for n, b in enumerate(self.node_bindings)}
        self.saved = self._saved_values()
        self.buffers = BufferPool()
        emitter = codegen.Emitter()
        emitter.namespace["_changed"] = self._shape_changed
        emitter.namespace["_take"] = self.buffers.take
        self.forward_code = codegen.forward_source(self, emitter)
        self.backward_code = codegen.backward_source(self, emitter)
        self.forward = emitter.build(self.forward_code, "forward")
        self.backward = emitter.build(self.backward_code, "backward")
        self.block = make_block(self)
        self.leaves = make_leaves(self)
        for op in self.ops:   # the eager results were needed for the order only
            op.tensor = None

    @property
    def source(self) -> str:
        """The generated forward and backward, as Python source."""
        return self.forward_code + "\n" + self.backward_code

    def shape_dtype(self, binding) -> tuple:
        if binding[0] == "slot":
            op = self.ops[binding[1]]
            return op.shape, op.dtype
        return self._arrays[binding[:2]]

    def stand_in(self, binding):
        """A zero-size stand-in for a value a VJP does not read (only its shape and dtype)."""
        key = binding[:2]
        if key not in self._stand_ins:
            shape, dtype = self.shape_dtype(binding)
            self._stand_ins[key] = np.broadcast_to(np.zeros((), dtype), shape)
        return self._stand_ins[key]

    def _saved_values(self) -> list:
        needed = set()
        for index in self.order:
            op = self.ops[index]
            if op.prim.reads_output:
                needed.add(("slot", index))
            for position, binding in enumerate(op.inputs):
                if op.prim.reads_input(position):
                    codegen.used_values(binding, needed)
            for binding in op.params.values():
                codegen.used_values(binding, needed)
        for op in self.ops:   # values drawn at random: a recorded backward (create_graph) reuses them
            if not op.inputs and op.index <= max(self.order, default=-1):
                needed.add(("slot", op.index))
        return sorted(needed)

    def _shape_changed(self, index, value):
        op = self.ops[index]
        raise ShapeChanged(f"'{op.prim.name}' (op {index}) gave shape {np.shape(value)} at replay, "
                           f"{op.shape} when recorded: its output shape depends on the values")

    def __repr__(self):
        return f"<plan {self.name}: {len(self.ops)} ops, {len(self.order)} in the backward>"


class ShapeChanged(Exception):
    """A replayed op's result has another shape than when it was recorded."""


def backward_order(ops, roots) -> list:
    """Slots in the order the engine's walk visits their nodes: engine._topological_order's
    depth-first search, on the recording (an input is a node when it is an op's value that
    requires grad where it is used)."""
    post_order, visited = [], set()
    stack = list(roots)
    while stack:
        index = stack.pop()
        if index is None:
            post_order.append(stack.pop())
            continue
        if index in visited:
            continue
        visited.add(index)
        stack.append(index)
        stack.append(None)
        op = ops[index]
        for binding, wanted in reversed(list(zip(op.inputs, op.input_grads))):
            if wanted and binding[0] == "slot" and binding[1] not in visited:
                stack.append(binding[1])
    post_order.reverse()
    return post_order
