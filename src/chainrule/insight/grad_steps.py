"""The steps of a forward pass between the values a learner named, and the chain rule of one step.

A learner who writes a backward pass by hand names the values of the forward pass (``hprebn``,
``bnvar``, ``bnvar_inv``, ``logits`` ...) and derives one gradient per name. Between two named
values there may be one op or several (``bnvar_inv = (bnvar + 1e-5) ** -0.5`` is an add and a
pow). A *step* is the named value ``u`` together with the ops that made it from the named values
(or the unnamed constants) it reads:

    step u:   inputs v₁, v₂, ...  →  ops  →  u

and its share of the chain rule, for each input v, is what the ops send back from dL/du:

    dL/dv [through u] = VJP_u→v(dL/du)             (upstream × local, op by op)
    dL/dv = Σ over the steps u that read v of dL/dv [through u]      (paths add)

The local derivative of a step whose ops are element-wise is written out as one product, e.g.
∂bnvar_inv/∂bnvar = −0.5 × (bnvar + 1e−05)^(−1.5) × 1, with the factors that are 1 left out.
"""

from __future__ import annotations

from ..backend import np
from ..ops.namespaces import ARRAYS
from ..primitive import apply
from ..tensor import Tensor
from .naming import _backward_walk
from .notation import ELEMENTWISE, TextNotation, forward_formula, local_formula
from .writer import show_value


class Step:
    """The named value ``output`` (called ``name``), the op-made tensors between it and its named
    inputs (forward order, ``output`` last) and those inputs as (name, tensor)."""

    def __init__(self, name: str, output: Tensor, nodes: list, inputs: list):
        self.name, self.output, self.nodes, self.inputs = name, output, nodes, inputs

    def reads(self, value: Tensor) -> bool:
        return any(t is value for _, t in self.inputs)

    def contributions(self, upstream) -> dict:
        """{id(input): dL/d(input) through this step} given dL/d(output) = ``upstream``."""
        node_grads, leaf_grads, _ = _backward_walk(self.output, [t._node for t in self.nodes],
                                                   seed=np.asarray(upstream))
        found = {}
        for _name, t in self.inputs:
            grad = leaf_grads.get(id(t)) if t._prim is None else node_grads.get(t._node)
            if grad is not None:
                found[id(t)] = np.asarray(grad)
        return found


def find_steps(named: dict) -> dict:
    """{name: Step} for every op-made value in ``named`` ({name: tensor}): walk back from it
    through unnamed op results until named values or leaves."""
    name_of = {id(t): n for n, t in named.items()}
    steps = {}
    for name, output in named.items():
        if output._prim is None:
            continue
        nodes, inputs, seen, stack = [], [], set(), [output]
        while stack:
            t = stack.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            nodes.append(t)
            for source in t._inputs() or ():
                if id(source) in name_of:
                    if all(source is not s for _, s in inputs):
                        inputs.append((name_of[id(source)], source))
                elif source._prim is not None:
                    stack.append(source)
        steps[name] = Step(name, output, _forward_order(nodes), inputs)
    return steps


def _forward_order(nodes: list) -> list:
    """The op-made tensors of a step, each after the tensors it reads."""
    inside = {id(t) for t in nodes}
    ordered, placed = [], set()
    pending = list(nodes)
    while pending:
        for t in pending:
            if all(id(s) in placed or id(s) not in inside for s in t._inputs() or ()):
                ordered.append(t)
                placed.add(id(t))
        pending = [t for t in pending if id(t) not in placed]
    return ordered


def backward_order(loss: Tensor, named: dict, steps: dict) -> list:
    """The names in the order a backward pass completes their gradients: a value comes after
    every step that reads it (Kahn's algorithm from the loss)."""
    readers = {name: [u for u, step in steps.items() if step.reads(t)] for name, t in named.items()}
    done, order = set(), []
    ready = [name for name, t in named.items() if t is loss or not readers[name]]
    while ready:
        name = ready.pop(0)
        if name in done:
            continue
        done.add(name)
        order.append(name)
        step = steps.get(name)
        for input_name, _t in (step.inputs if step else ()):
            if input_name not in done and all(u in done for u in readers[input_name]):
                ready.append(input_name)
    return order + [name for name in named if name not in done]


# --- the chain rule of one step, in words ----------------------------------------------------
def expressions(step: Step, N=None) -> dict:
    """{id(tensor): how it is written}: named inputs by name, unnamed constants by value, the
    step's ops by their formula (so bnvar_inv reads (bnvar + 1e−05)^(−0.5))."""
    N = N or TextNotation()
    written = {id(t): N.name(name) for name, t in step.inputs}
    for t in step.nodes:
        operands = []
        for source in t._inputs():
            if id(source) not in written:
                written[id(source)] = show_value(N, source._data) if source._data.size == 1 else \
                    (source.name or "c")
            operands.append(written[id(source)])
        written[id(t)] = forward_formula(N, t._prim.name, operands, t._params)
    return written


def chain_path(step: Step, value: Tensor):
    """The ops from ``value`` to the step's output as [(tensor, input index)], when the value
    reaches the output along exactly one path; None otherwise."""
    path, current = [], step.output
    while current is not value:
        slots = [i for i, s in enumerate(current._inputs()) if s is value or _depends(s, value, step)]
        if len(slots) != 1:
            return None
        path.append((current, slots[0]))
        current = current._inputs()[slots[0]]
    return path


def _depends(t: Tensor, value: Tensor, step: Step) -> bool:
    inside = {id(s) for s in step.nodes}
    stack = [t] if id(t) in inside else []
    while stack:
        s = stack.pop()
        for source in s._inputs():
            if source is value:
                return True
            if id(source) in inside:
                stack.append(source)
    return False


def local_derivative(step: Step, value: Tensor, value_name: str, N=None):
    """(∂u/∂v written as a name, its formula as a product of the ops' local derivatives, or None
    when an op on the way has no element-wise formula)."""
    N = N or TextNotation()
    lhs = N.partial(step.name, value_name)
    path = chain_path(step, value)
    if path is None:
        return lhs, None
    written = expressions(step, N)
    factors = []
    for t, index in path:
        if t._prim.name not in ELEMENTWISE:
            return lhs, None
        operands = [written[id(s)] for s in t._inputs()]
        output = N.name(step.name) if t is step.output else written[id(t)]
        factor = local_formula(N, t._prim.name, index, operands, output, t._params)
        if factor is None:
            return lhs, None
        if factor != "1":
            factors.append(factor)
    return lhs, N.times.join(N.operand(f) if len(factors) > 1 else f for f in factors) or "1"


def elementwise_chain(step: Step, value: Tensor):
    """[(tensor, input index, local derivative array)] along the one path from ``value`` when
    every op on it is element-wise and keeps the value's shape; None otherwise."""
    path = chain_path(step, value)
    if path is None or any(t._prim.name not in ELEMENTWISE or t.shape != value.shape for t, _ in path):
        return None
    chain = []
    for t, index in path:
        values = [s._data for s in t._inputs()]
        local = t._prim.vjps[index](ARRAYS, np.ones_like(t._data), t._data, *values, **t._params)
        chain.append((t, index, np.broadcast_to(np.asarray(local), t.shape)))
    return chain


# --- the step again, as a graph of its own, for explain ---------------------------------------
def replay(steps_reading: list, value: Tensor, value_name: str, upstreams: dict) -> Tensor:
    """The steps that read ``value``, rebuilt on fresh tensors: ``value`` a leaf that requires
    grad, every other input a named constant, and as the root

        L = Σ over those steps u of sum(u ⊙ du)      (du: the true dL/du, held constant)

    which has the same gradient with respect to ``value`` as the real loss: explain(root) then
    writes out exactly the chain rule of these steps."""
    fresh = {id(value): Tensor._wrap(np.array(value._data, copy=True), True)}
    fresh[id(value)].name = value_name
    root = None
    for step in steps_reading:
        for name, t in step.inputs:
            if id(t) not in fresh:
                fresh[id(t)] = Tensor._wrap(np.array(t._data, copy=True))
                fresh[id(t)].name = name
        for t in step.nodes:
            sources = []
            for source in t._inputs():
                if id(source) not in fresh:
                    fresh[id(source)] = Tensor._wrap(np.array(source._data, copy=True))
                    fresh[id(source)].name = source.name
                sources.append(fresh[id(source)])
            if id(t) not in fresh:
                fresh[id(t)] = apply(t._prim, tuple(sources), t._params)
        output = fresh[id(step.output)]
        output.name = step.name
        upstream = Tensor._wrap(np.asarray(upstreams[step.name], dtype=output._data.dtype))
        upstream.name = "d" + step.name
        term = (output * upstream).sum()
        root = term if root is None else root + term
    root.name = "L"
    return root
