"""``cr.explain(tensor)``: the backward pass of a small graph written out, node by node.

For the lesson's example, L = (w × x − y)² with w = 2, x = 3, y = 10::

    Forward pass
      wx = w × x = 2 × 3 = 6
      diff = wx − y = 6 − 10 = −4
      L = diff² = (−4)² = 16
    Backward pass
      at L = diff²:   local ∂L/∂(diff) = 2 × diff = 2 × (−4) = −8,  upstream dL/dL = 1,
                      product dL/d(diff) = 1 × (−8) = −8
      ...
      at wx = w × x:  local ∂(wx)/∂w = x = 3, upstream dL/d(wx) = −8, product dL/dw = −8 × 3 = −24

∂ is a local derivative (one op, its other inputs held fixed), d a total one (see notation.py).
Every node applies the chain rule once:

    dL/d(input) = dL/d(output) × ∂(output)/∂(input)        (upstream × local)

and a value used in several places gets one contribution per use, its "paths" to L, which add
up (the multivariable chain rule); the sum is written where the paths meet:

    L = x·x + x at x = 3:   dL/dx = 1 + 3 + 3 = 7

A value outside a function's domain (log of a negative number, division by zero, ...) and the
first NaN or Inf are flagged at the node where they appear (see domain.py).

The numbers come from the engine's own derivative table (the VJPs in ``chainrule.ops``), walked
here separately so that the user's graph is neither consumed nor changed and no ``.grad`` is
touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import GraphError
from ..locale import _, language
from ..tensor import Tensor
from .domain import backward_problem, finite, forward_problem, kink_note, non_finite_word
from .explain_forward import explain_forward
from .explanation import Explanation
from .naming import _backward_walk, _given_names, _graph, _local_values, _name_graph, _written
from .notation import ELEMENTWISE, NOTATIONS, VJP_WORDS, NotebookNotation, forward_formula, local_formula
from .writer import Writer, show_value, sum_of

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ..nn.module import Module


__all__ = ["Explanation", "explain", "show_value"]

DEFAULT_MAX_NODES = 30
MAX_LEAVES_SHOWN = 20
def _use_key(t: Tensor) -> Any:
    """What identifies a value in the graph: its node, or the leaf tensor itself."""
    return t._node if t._node is not None else id(t)


def _uses(contributions: dict) -> dict:
    """{value: [(node, input index), ...]}: every use of a value that sends a gradient back, in
    the order of the backward walk. More than one use means more than one path to L."""
    uses: dict[Any, list[tuple[Any, int]]] = {}
    for node, index in contributions:
        uses.setdefault(_use_key(node.inputs[index]), []).append((node, index))
    return uses


def _target_operands(N: Any, node: Any, given_arrays: Any) -> list:
    """The data a loss compares with (cross-entropy's target), which the node holds as a
    parameter rather than as an input: written by name when the caller named it."""
    for key in ("target", "coefficients"):
        target = node.params.get(key)
        if isinstance(target, np.ndarray):
            for array, name in given_arrays:
                if array.shape[:1] == target.shape[:1] and array.size == target.size \
                        and np.array_equal(array.reshape(target.shape), target):
                    return [N.name(name)]
            return [_("target") + " " + show_value(N, target)] if target.size > 1 else [show_value(N, target)]
    return []


def explain(tensor: Tensor, style: str = "text", max_nodes: int = DEFAULT_MAX_NODES,
            names: Mapping[Tensor, str] | Module | None = None,
            lang: str | None = None, mode: str = "reverse") -> Explanation:
    """The chain rule for ``tensor``'s graph, written out: forward values, then per node the
    local derivative, the upstream gradient and their product, then the leaves' gradients (the
    sum of their paths when a leaf is used more than once). Values outside a function's domain
    and the first NaN/Inf are flagged where they appear.

    style      "text" (Unicode), "markdown" or "latex" (an ``align*`` block per pass)
    max_nodes  graphs with more ops are summarised (op counts) and only the ops nearest the
               output are written out
    names      optional {tensor: name} or an ``nn.Module`` (its parameters get their names)
    lang       "en" or "ja" (default: the environment's language, see ``chainrule.locale``); the
               numbers and formulas are the same in both

    mode       "reverse" (the backward pass, as above) or "forward": forward mode, each value's
               tangent pushed from the inputs to the output (one pass per input that requires
               grad), and when each mode is the cheaper one (explain_forward.py)

    Returns an ``Explanation``: a ``str`` (the text in ``style``, for print and files) that a
    notebook shows as Markdown with the formulas typeset (see explanation.py).
    """
    if style not in NOTATIONS:
        raise ValueError(f"explain: style must be one of {sorted(NOTATIONS)}, got {style!r}")
    if mode not in ("reverse", "forward"):
        raise ValueError(f"explain: mode must be 'reverse' or 'forward', got {mode!r}")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain expects a Tensor, got {type(tensor).__name__}")
    if tensor._node is None:
        raise GraphError(f"explain: this tensor (shape {tensor.shape}) was not computed from tensors that "
                         "require grad, so it has no graph to explain (create the inputs with "
                         "requires_grad=True)")
    with language(lang):
        if mode == "forward":
            return Explanation(explain_forward(tensor, NOTATIONS[style](), max_nodes, names),
                               notebook=explain_forward(tensor, NotebookNotation(), max_nodes, names))
        graph = _Walked(tensor, names)
        return Explanation(_explain(graph, NOTATIONS[style](), max_nodes),
                           notebook=_explain(graph, NotebookNotation(), max_nodes))


class _Walked:
    """A graph named and walked once, to be written in as many notations as wanted."""

    def __init__(self, tensor: Tensor, names: Any) -> None:
        self.tensor, self.names = tensor, names
        self.order, self.tensor_of, self.leaves = _graph(tensor)
        self.namer = _name_graph(tensor, self.order, self.tensor_of, self.leaves, _given_names(names))
        with np.errstate(all="ignore"):   # NaN/Inf are reported in words, node by node
            self.walk = _backward_walk(tensor, self.order)


def _explain(graph: _Walked, N: Any, max_nodes: int) -> str:
    tensor, order, leaves = graph.tensor, graph.order, graph.leaves
    with np.errstate(all="ignore"):
        out = Writer(N)
        context = _Context(N, graph.namer, tensor, graph.tensor_of, graph.walk, graph.names)
        shown = order[-max_nodes:] if max_nodes and len(order) > max_nodes else order
        out.summary_of_long_graph(order, leaves, shown)
        if tensor._data.size != 1:
            out.note(_("{name} has shape {shape}: this explains the gradient of the sum of its elements "
                       "(every upstream gradient starts at 1).").format(name=context.root_name,
                                                                        shape=tensor.shape), level=0)
        problems = _write_forward(out, context, order, shown, leaves)
        out.heading(_("Backward pass (the chain rule, output to inputs)"))
        out.begin_math()
        out.prose(_(N.legend))
        for node in reversed(shown):
            _explain_node(out, context, node, problems)
        out.end_math()
        _write_leaf_gradients(out, context, leaves, problems)
    return out.text()


class _Context:
    """What every part of the write-up needs: notation, names, the graph and the backward walk."""

    def __init__(self, N: Any, namer: Any, root: Any, tensor_of: Any, walk: Any, names: Any) -> None:
        self.N, self.namer, self.root, self.tensor_of = N, namer, root, tensor_of
        self.node_grads, self.leaf_grads, self.contributions = walk
        self.uses = _uses(self.contributions)
        self.root_name = namer(root)
        self.given_arrays = [(np.asarray(t._data), str(n)) for t, n in dict(names).items()
                             if isinstance(t, Tensor)] if isinstance(names, dict) else []

    def written(self, t: Tensor) -> str:
        return _written(self.N, self.namer, t)

    def value_or_name(self, t: Tensor) -> str:
        return show_value(self.N, t._data) if t._data.size == 1 else self.written(t)


def _write_forward(out: Any, c: Any, order: Any, shown: Any, leaves: Any) -> dict:
    """The forward pass, each node's value, and {node: why its value is not a real number}."""
    N = c.N
    out.heading(_("Forward pass (input to output)"))
    out.begin_math()
    named_leaves = [N.inline(f"{N.name(c.namer(t))} = {show_value(N, t._data)}") for t in leaves
                    if c.namer(t) is not None]
    if named_leaves:
        out.note(_("the leaves: {values}").format(values=", ".join(named_leaves)), level=1)
    for t in leaves:
        if not finite(t._data):
            out.warning(_("the input {name} holds {value}: every value computed from it is not a real "
                          "number either").format(name=N.math(c.written(t)), value=non_finite_word(N,
                              t._data)))
    problems = {}
    for node in order:
        t, op = c.tensor_of[node], node.prim.name
        operands = [c.written(i) for i in node.inputs]
        problem = forward_problem(N, op, operands, [i._data for i in node.inputs], node.params, node.output)
        if problem:
            problems[node] = problem
        if node not in shown:
            continue
        extra = _target_operands(N, node, c.given_arrays)
        values = [c.value_or_name(i) for i in node.inputs]
        out.equation("", N.name(c.namer(t)), [forward_formula(N, op, operands + extra, node.params),
                                              forward_formula(N, op, values + extra, node.params),
                                              show_value(N, t._data)])
        if problem:
            out.warning(_("at {name}: {problem}").format(name=N.math(N.name(c.namer(t))), problem=problem))
    out.end_math()
    out.note(_("so {name} = {value}").format(name=N.inline(N.name(c.root_name)),
                                             value=N.inline(show_value(N, c.root._data))), level=1)
    if not finite(c.root._data):
        first = next(iter(problems), None)
        where = _(" (it first went wrong at {name})").format(
            name=N.math(N.name(c.namer(c.tensor_of[first])))) \
            if first is not None and first is not c.root._node else ""
        value = non_finite_word(N, c.root._data)
        out.warning(_("{name} is {value}, not a real number{where}; the derivatives below are computed "
                      "anyway, but they describe no real slope").format(
                          name=N.math(N.name(c.root_name)), value=value, where=where))
    return problems


def _explain_node(out: Any, c: Any, node: Any, problems: Any) -> None:
    """One node's chain rule: upstream (the sum of its paths when used twice), then for each
    input that needs a gradient, local derivative and product."""
    N, op, t = c.N, node.prim.name, c.tensor_of[node]
    out_name = c.namer(t)
    operands = [c.written(i) for i in node.inputs]
    written = forward_formula(N, op, operands + _target_operands(N, node, c.given_arrays), node.params)
    out.note(_("at {name} = {formula}:").format(name=N.inline(N.name(out_name)), formula=N.inline(written)),
             level=1)
    upstream = c.node_grads[node]
    paths = c.uses.get(node, [])
    upstream_parts = []
    if len(paths) > 1:
        out.note(_("{name} is used {count} times, so {derivative} adds its {count} paths (the "
                   "multivariable chain rule)").format(name=N.inline(N.name(out_name)), count=len(paths),
                                                       derivative=N.inline(N.d(c.root_name, out_name))),
                 level=2)
        upstream_parts = [sum_of(N, [show_value(N, c.contributions[key]) for key in paths])]
    scalar = all(i._data.size == 1 for i in node.inputs) and t._data.size == 1
    out.equation(_("upstream"), N.d(c.root_name, out_name), upstream_parts + [show_value(N, upstream)],
                 level=2)
    if node in problems:
        out.warning(_("{name} is not a real number (see the forward pass), so the local derivatives here "
                      "are numbers without meaning").format(name=N.math(N.name(out_name))), level=2)
    note = kink_note(N, op, [i._data for i in node.inputs])
    if note:
        out.note(note, level=2)
    for index, source in enumerate(node.inputs):
        if not source.requires_grad or (node, index) not in c.contributions:
            continue
        _explain_input(out, c, node, index, operands, scalar, explained=node in problems)


def _explain_input(out: Any, c: Any, node: Any, index: Any, operands: Any, scalar: Any,
                   explained: bool) -> None:
    """Local derivative and product for input ``index`` of ``node``."""
    N, op, t, source = c.N, node.prim.name, c.tensor_of[node], node.inputs[index]
    out_name, source_name = c.namer(t), c.namer(source)
    upstream, contribution = c.node_grads[node], c.contributions[(node, index)]
    local_lhs = N.partial(out_name, source_name)
    if sum(i is source for i in node.inputs) > 1:     # x × x: which slot this derivative is for
        local_lhs = N.slot(local_lhs, index + 1)
    paths = c.uses[_use_key(source)]
    product_lhs = N.d(c.root_name, source_name) if len(paths) == 1 else \
        N.path(c.root_name, source_name, paths.index((node, index)) + 1, len(paths))
    result, local = show_value(N, contribution), None
    if op in ELEMENTWISE and node.prim.vjps and index < len(node.prim.vjps):
        values = [c.value_or_name(i) for i in node.inputs]
        local = _local_values(node, index)
        by_name = local_formula(N, op, index, operands, N.name(out_name), node.params)
        by_value = local_formula(N, op, index, values, show_value(N, t._data), node.params) \
            if scalar else None
        out.equation(_("local"), local_lhs, [by_name, by_value, show_value(N, local)], level=2)
        joiner = N.times if scalar else (" ⊙ " if N.style != "latex" else " \\odot ")
        symbolic = None if t is c.root else N.d(c.root_name, out_name) + joiner + local_lhs
        product = show_value(N, upstream) + joiner + N.operand(show_value(N, local)) if scalar else None
        out.equation(_("product"), product_lhs, [symbolic, product, result], level=2)
    elif op[:1].isupper():   # a custom autograd.Function: its class wrote the chain rule step
        out.note(_("{op} is a custom Function: its backward() gives this product (its own chain rule "
                   "step)").format(op=op), level=2)
        out.equation(_("product"), product_lhs, [result], level=2)
    else:
        words = VJP_WORDS.get(op, ())
        rule = _(words[index]) if index < len(words) else \
            _("the vector-Jacobian product of '{op}'").format(op=op)
        rule = rule.format(*[N.inline(o) for o in operands], up=N.inline(N.d(c.root_name, out_name)))
        out.note(_("{op} is not element-wise: its local derivative is a Jacobian, applied as {rule}").format(
            op=op, rule=rule), level=2)
        out.equation(_("product"), product_lhs, [result], level=2)
    problem = None if explained else backward_problem(N, op, upstream, local, contribution)
    if problem:
        out.warning(f"{N.math(product_lhs)}: {problem}", level=2)


def _write_leaf_gradients(out: Any, c: Any, leaves: Any, problems: Any) -> None:
    """Each leaf's gradient; for a leaf used several times, the sum of its paths written out."""
    N = c.N
    out.heading(_("Gradients of the leaves"))
    out.begin_math()
    if problems:
        out.warning(_("these gradients come from a point where the computation left the real numbers "
                      "(see the warnings above): do not trust them"))
    with_grads = [t for t in leaves if t.requires_grad and id(t) in c.leaf_grads]
    for t in with_grads[:MAX_LEAVES_SHOWN]:
        grad, name = c.leaf_grads[id(t)], c.namer(t)
        paths = c.uses.get(id(t), [])
        parts = []
        if len(paths) > 1:
            out.prose(_("{name} reaches {root} along {count} paths; where paths meet, their contributions "
                        "add (the multivariable chain rule):").format(
                            name=N.math(N.name(name)), root=N.math(N.name(c.root_name)), count=len(paths)))
            parts = [sum_of(N, [show_value(N, c.contributions[key]) for key in paths])]
        out.equation("", N.d(c.root_name, name), parts + [show_value(N, grad)])
        if grad.size != 1:
            norm = _("norm {value}").format(value=N.number(float(np.linalg.norm(grad))))
            out.lines[-1] += f"   ({norm})" if N.layout != "latex" else f"  % {norm}"
        if not finite(grad) and not problems:
            out.warning(_("{derivative} is {value}: see where the gradient stopped being finite "
                          "above").format(derivative=N.math(N.d(c.root_name, name)),
                                          value=non_finite_word(N, grad)))
    out.end_math()
    if len(with_grads) > MAX_LEAVES_SHOWN:
        out.note(_("... and {count} more leaves").format(count=len(with_grads) - MAX_LEAVES_SHOWN), level=1)
