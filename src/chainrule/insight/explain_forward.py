"""``cr.explain(tensor, mode="forward")``: the same chain rule, run the other way -- forward mode.

For the lesson's example, L = (w × x − y)² at w = 2, x = 3, y = 10, seeded with dw/dw = 1::

    at wx = w × x = 2 × 3 = 6:
      local    ∂(wx)/∂w = x = 3
      tangent  d(wx)/dw = ∂(wx)/∂w × dw/dw = 3 × 1 = 3
    at diff = wx − y = 6 − 10 = −4:
      local    ∂(diff)/∂(wx) = 1
      tangent  d(diff)/dw = ∂(diff)/∂(wx) × d(wx)/dw = 1 × 3 = 3
    at L = diff² = (−4)² = 16:
      local    ∂L/∂(diff) = 2 × diff = 2 × (−4) = −8
      tangent  dL/dw = ∂L/∂(diff) × d(diff)/dw = −8 × 3 = −24

Each node multiplies its inputs' tangents (how much each input moves when w moves) by its local
derivatives and adds them up: the chain rule applied left to right, the value and its tangent
computed together in one pass, no graph kept. The tangents come from the JVPs of the derivative
table (``Primitive.jvp``), as the backward write-up's gradients come from the VJPs. Every input
that requires grad gets a pass of its own (that is the price of forward mode), and the write-up
ends with when each mode is the cheaper one.
"""

from __future__ import annotations

from ..backend import np
from ..forward_ad import tangent_of_op
from ..locale import _, _n
from ..tensor import Tensor
from .domain import forward_problem
from .naming import _backward_walk, _given_names, _graph, _local_values, _name_graph, _written
from .notation import ELEMENTWISE, forward_formula, local_formula
from .writer import Writer, show_value


def explain_forward(tensor: Tensor, N, max_nodes: int, names) -> str:
    order, tensor_of, leaves = _graph(tensor)
    namer = _name_graph(tensor, order, tensor_of, leaves, _given_names(names))
    seeds = [t for t in leaves if t.requires_grad]
    shown = order[-max_nodes:] if max_nodes and len(order) > max_nodes else order
    out = Writer(N)
    with np.errstate(all="ignore"):   # NaN/Inf are reported in words, node by node
        out.summary_of_long_graph(order, leaves, shown)
        out.heading(_("Forward mode (values and tangents together, input to output)"))
        out.prose(_(N.forward_legend))
        named = [f"{N.name(namer(t))} = {show_value(N, t._data)}" for t in leaves if namer(t) is not None]
        if named:
            out.note(_("the leaves: {values}").format(values=", ".join(named)), level=1)
        reverse = _reverse_gradients(tensor, order)
        for number, seed in enumerate(seeds, 1):
            _write_pass(out, N, namer, tensor, order, shown, tensor_of, seed, reverse.get(id(seed)),
                        number, len(seeds))
        _write_costs(out, N, tensor, seeds)
    return out.text()


def _write_pass(out, N, namer, root, order, shown, tensor_of, seed, reverse, number: int, count: int):
    """One forward pass: the seed's tangent 1, then every node's value and tangent."""
    seed_name, root_name = namer(seed), namer(root)
    if count > 1:
        out.heading(_("Pass {number} of {count}: the derivatives with respect to {name}").format(
            number=number, count=count, name=N.name(seed_name)))
    out.begin_math()
    out.equation(_("seed"), N.d(seed_name, seed_name), ["1"])
    out.note(_("the input we differentiate by starts with tangent 1; every other leaf is held fixed "
               "(tangent 0)"), level=1)
    if seed._data.size > 1:
        out.note(_("{name} has {count} elements: a tangent of 1 in each gives the derivative along the "
                   "direction (1, …, 1); the whole gradient takes one pass per element").format(
                       name=N.name(seed_name), count=seed._data.size), level=1)
    tangents = {id(seed): np.ones_like(seed._data)}
    for node in order:
        t = tensor_of[node]
        inputs = [tangents.get(id(i)) for i in node.inputs]
        tangent = tangent_of_op(node.prim, [i._data for i in node.inputs], inputs, node.output,
                                node.params)
        if tangent is not None:
            tangents[id(t)] = tangent
        if node in shown:
            _write_node(out, N, namer, node, t, seed_name, inputs, tangent)
    out.end_math()
    result = tangents.get(id(root), np.zeros_like(root._data))
    out.note(_("so {derivative} = {value}").format(derivative=N.d(root_name, seed_name),
                                                   value=show_value(N, result)), level=1)
    if reverse is None or not np.isfinite(np.sum(result)):
        return
    if not np.isclose(np.sum(result), np.sum(reverse)):   # sum_i sum_j dL_j/dw_i, either way
        out.warning(_("the backward pass gives {value} here: forward and reverse mode disagree").format(
            value=show_value(N, reverse)))
    elif seed._data.size == 1 and root._data.size == 1:
        out.note(_("the same number as the backward pass gives (reverse mode, output to inputs)"), level=1)


def _write_node(out, N, namer, node, t, seed_name, input_tangents, tangent) -> None:
    """At a node: its value, then its tangent from the inputs' tangents and the local derivatives."""
    op, name = node.prim.name, namer(t)
    operands = [_written(N, namer, i) for i in node.inputs]
    values = [show_value(N, i._data) if i._data.size == 1 else _written(N, namer, i) for i in node.inputs]
    chain = [forward_formula(N, op, operands, node.params), forward_formula(N, op, values, node.params),
             show_value(N, t._data)]
    shown = [part for k, part in enumerate(chain) if part not in chain[:k]]
    out.note(_("at {name} = {formula}:").format(name=N.name(name), formula=" = ".join(shown)), level=1)
    problem = forward_problem(N, op, operands, [i._data for i in node.inputs], node.params, node.output)
    if problem:
        out.warning(_("at {name}: {problem}").format(name=N.math(N.name(name)), problem=problem), level=2)
    lhs = N.d(name, seed_name)
    carried = [k for k, tangent_in in enumerate(input_tangents) if tangent_in is not None]
    if not carried:
        out.equation(_("tangent"), lhs, ["0"], level=2)
        out.note(_("{name} does not depend on {seed}").format(name=N.name(name), seed=N.name(seed_name)),
                 level=2)
        return
    if op not in ELEMENTWISE or any(k >= len(node.prim.vjps) for k in carried):
        out.note(_("{op} is not element-wise: its local derivative is a Jacobian, and the tangent is that "
                   "Jacobian times the inputs' tangents (the op's JVP)").format(op=op), level=2)
        out.equation(_("tangent"), lhs, [show_value(N, tangent)], level=2)
        return
    scalar = all(i._data.size == 1 for i in node.inputs) and t._data.size == 1
    joiner = N.times if scalar else (" ⊙ " if N.style != "latex" else " \\odot ")
    symbolic, numeric = [], []
    for k in carried:
        source = node.inputs[k]
        local_lhs = N.partial(name, namer(source) or operands[k])
        if sum(i is source for i in node.inputs) > 1:
            local_lhs = N.slot(local_lhs, k + 1)
        local = _local_values(node, k)
        by_name = local_formula(N, op, k, operands, N.name(name), node.params)
        by_value = local_formula(N, op, k, values, show_value(N, t._data), node.params) if scalar else None
        out.equation(_("local"), local_lhs, [by_name, by_value, show_value(N, local)], level=2)
        symbolic.append(local_lhs + joiner + N.d(namer(source) or operands[k], seed_name))
        first = show_value(N, local) if not numeric else N.operand(show_value(N, local))
        numeric.append(first + joiner + N.operand(show_value(N, input_tangents[k])))
    out.equation(_("tangent"), lhs, [" + ".join(symbolic), " + ".join(numeric) if scalar else None,
                                     show_value(N, tangent)], level=2)


def _reverse_gradients(root: Tensor, order: list) -> dict:
    """{id(leaf): dL/d(leaf)} by explain's own walk of the backward pass (no hook runs, no .grad is
    touched), to compare with."""
    return _backward_walk(root, order)[1]


def _write_costs(out, N, root: Tensor, seeds: list) -> None:
    """When each mode is the cheaper one, with this graph's counts."""
    inputs = sum(s._data.size for s in seeds)
    outputs = root._data.size
    out.heading(_("Forward or reverse mode: which is cheaper?"))
    out.prose(_("Forward mode pushes one tangent from the inputs to the outputs: one pass gives the "
                "derivatives of every output with respect to ONE input. Reverse mode, backpropagation, "
                "pulls one gradient from an output back to the inputs: one backward pass gives the "
                "derivatives of ONE output with respect to every input. For a function of n inputs and m "
                "outputs, all the derivatives cost n forward passes or m backward passes."))
    out.prose(_n("Here {count} number is differentiated by, so forward mode needs {count} pass;",
                 "Here {count} numbers are differentiated by, so forward mode needs {count} passes;",
                 inputs).format(count=inputs) + " "
              + _n("the output is {count} number, so reverse mode needs {count} backward pass.",
                   "the output has {count} numbers, so reverse mode needs {count} backward passes.",
                   outputs).format(count=outputs))
    out.prose(_("A neural network's loss is one number computed from millions of weights (m = 1, n huge): "
                "reverse mode gets every gradient in one backward pass, which is why training uses "
                "backpropagation. Its core idea, reverse-mode automatic differentiation, dates back to the "
                "1960s; forward mode is as old (Wengert, 1964). Forward mode wins when there are few inputs "
                "and many outputs, such as how a whole output image or trajectory changes with one "
                "setting. In chainrule: backward(), cr.func.grad and cr.func.jacrev run reverse mode; "
                "cr.func.jvp and cr.func.jacfwd run forward mode."))
