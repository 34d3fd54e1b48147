"""``cr.explain(tensor)``: the backward pass of a small graph written out, node by node.

For the lesson's example, L = (w × x − y)² with w = 2, x = 3, y = 10::

    Forward pass
      wx = w × x = 2 × 3 = 6
      diff = wx − y = 6 − 10 = −4
      L = diff² = (−4)² = 16
    Backward pass
      at L = diff²:   local d(L)/d(diff) = 2 × diff = 2 × (−4) = −8,  upstream dL/dL = 1,
                      product dL/d(diff) = 1 × (−8) = −8
      ...
      at wx = w × x:  local d(wx)/dw = x = 3, upstream dL/d(wx) = −8, product dL/dw = −8 × 3 = −24

Every node applies the chain rule once:

    dL/d(input) = dL/d(output) × d(output)/d(input)        (upstream × local)

and a value used in several places adds the gradients that reach it. The numbers come from
the engine's own derivative table (the VJPs in ``chainrule.ops``), walked here separately so
that the user's graph is neither consumed nor changed and no ``.grad`` is touched.
"""

from __future__ import annotations

from collections import Counter

from ..autograd import _sum_to_shape, _topological_order
from ..backend import np
from ..errors import GraphError
from ..ops.namespaces import ARRAYS
from ..tensor import Tensor
from .notation import ELEMENTWISE, NOTATIONS, VJP_WORDS, forward_formula, local_formula

DEFAULT_MAX_NODES = 30
MAX_LEAVES_SHOWN = 20
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


def _backward_walk(root: Tensor, order: list):
    """dL/d(every tensor), contribution by contribution, with the VJPs of the derivative table.

    Returns ({node: dL/d(its output)}, {id(leaf): dL/d(leaf)}, {(node, i): the part of
    dL/d(input i) that came through this node})."""
    node_grads = {root._node: np.ones_like(root._data)}
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


def _local_values(node, index: int):
    """d(output)/d(input ``index``) element by element (an element-wise op's local derivative)."""
    values = [t._data for t in node.inputs]
    ones = np.ones_like(node.output)
    local = node.prim.vjps[index](ARRAYS, ones, node.output, *values, **node.params)
    return np.asarray(local)


class _Writer:
    """Collects headings, equations and notes, and renders them as text, Markdown or LaTeX."""

    def __init__(self, notation):
        self.N, self.lines = notation, []

    def heading(self, title: str) -> None:
        style = self.N.style
        if style == "markdown":
            self.lines += ["", f"### {title}", ""]
        elif style == "latex":
            self.lines += [f"% {title}"]
        else:
            self.lines += [f"{title}"]

    def equation(self, label: str, lhs: str, rhs: list, level: int = 1) -> None:
        chain = []
        for part in rhs:
            if part is not None and (not chain or chain[-1] != part) and part != lhs:
                chain.append(part)
        style = self.N.style
        if style == "latex":
            text = lhs + " &= " + " = ".join(chain) + " \\\\" + (f"  % {label}" if label else "")
        else:
            body = lhs + " = " + " = ".join(chain)
            prefix = f"{label:<9}" if label else ""
            text = ("  " * (level - 1) + "- " if style == "markdown" else "  " * level) + prefix + body
        self.lines.append(text)

    def note(self, text: str, level: int = 1) -> None:
        style = self.N.style
        if style == "latex":
            self.lines.append(f"% {text}")
        elif style == "markdown":
            self.lines.append("  " * (level - 1) + "- " + text)
        else:
            self.lines.append("  " * level + text)

    def begin_math(self) -> None:
        if self.N.style == "latex":
            self.lines.append("\\begin{align*}")

    def end_math(self) -> None:
        if self.N.style == "latex":
            self.lines.append("\\end{align*}")

    def text(self) -> str:
        return "\n".join(self.lines).strip("\n") + "\n"


def show_value(N, array) -> str:
    """A scalar as a number; an array as its shape and its first few numbers."""
    array = np.asarray(array)
    if array.size == 1:
        return N.number(array.reshape(()).item()) if array.dtype.kind in "fiub" else str(array)
    shape = "×".join(str(s) for s in array.shape) if N.style != "latex" else \
        " \\times ".join(str(s) for s in array.shape)
    head = ", ".join(N.number(v) for v in array.reshape(-1)[:3].astype(float))
    more = (", …" if N.style != "latex" else ", \\dots") if array.size > 3 else ""
    if N.style == "latex":
        return f"\\left[{shape}:\\ {head}{more}\\right]"
    return f"[{shape}: {head}{more}]"


def _written(N, namer, t: Tensor) -> str:
    name = namer(t)
    return N.name(name) if name is not None else show_value(N, t._data)


def explain(tensor: Tensor, style: str = "text", max_nodes: int = DEFAULT_MAX_NODES, names=None) -> str:
    """The chain rule for ``tensor``'s graph, written out: forward values, then per node the
    local derivative, the upstream gradient and their product, then the leaves' gradients.

    style      "text" (Unicode), "markdown" or "latex" (an ``align*`` block per pass)
    max_nodes  graphs with more ops are summarised (op counts) and only the ops nearest the
               output are written out
    names      optional {tensor: name} or an ``nn.Module`` (its parameters get their names)
    """
    if style not in NOTATIONS:
        raise ValueError(f"explain: style must be one of {sorted(NOTATIONS)}, got {style!r}")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain expects a Tensor, got {type(tensor).__name__}")
    if tensor._node is None:
        raise GraphError(f"explain: this tensor (shape {tensor.shape}) was not computed from tensors that "
                         "require grad, so it has no graph to explain (create the inputs with "
                         "requires_grad=True)")
    N = NOTATIONS[style]()
    order, tensor_of, leaves = _graph(tensor)
    namer = _name_graph(tensor, order, tensor_of, leaves, _given_names(names))
    node_grads, leaf_grads, contributions = _backward_walk(tensor, order)
    root_name = namer(tensor)
    out = _Writer(N)
    shown = order[-max_nodes:] if max_nodes and len(order) > max_nodes else order
    if len(shown) < len(order):
        counts = Counter(node.prim.name for node in order)
        summary = ", ".join(f"{op} ×{n}" for op, n in counts.most_common())
        out.heading("Summary")
        out.note(f"The graph has {len(order)} ops ({summary}) and {len(leaves)} leaves; the "
                 f"{len(shown)} ops nearest the output are written out below.")
    if tensor._data.size != 1:
        out.note(f"{root_name} has shape {tensor.shape}: this explains the gradient of the sum of its "
                 "elements (every upstream gradient starts at 1).", level=0)

    out.heading("Forward pass (input to output)")
    out.begin_math()
    named_leaves = [f"{N.name(namer(t))} = {show_value(N, t._data)}" for t in leaves if namer(t) is not None]
    if named_leaves:
        out.note("the leaves: " + ", ".join(named_leaves), level=1)
    for node in shown:
        t = tensor_of[node]
        operands = [_written(N, namer, i) for i in node.inputs]
        values = [show_value(N, i._data) if i._data.size == 1 else _written(N, namer, i) for i in node.inputs]
        out.equation("", N.name(namer(t)), [forward_formula(N, node.prim.name, operands, node.params),
                                            forward_formula(N, node.prim.name, values, node.params),
                                            show_value(N, t._data)])
    out.end_math()
    out.note(f"so {N.name(root_name)} = {show_value(N, tensor._data)}", level=1)

    out.heading("Backward pass (the chain rule, output to inputs)")
    out.begin_math()
    for node in reversed(shown):
        _explain_node(out, N, namer, node, tensor_of, root_name, node_grads, contributions)
    out.end_math()

    out.heading("Gradients of the leaves")
    out.begin_math()
    with_grads = [t for t in leaves if t.requires_grad and id(t) in leaf_grads]
    for t in with_grads[:MAX_LEAVES_SHOWN]:
        grad = leaf_grads[id(t)]
        norm = None if grad.size == 1 else f"norm {N.number(float(np.linalg.norm(grad)))}"
        out.equation("", N.d(root_name, namer(t)), [show_value(N, grad)])
        if norm:
            out.lines[-1] += f"   ({norm})" if N.style != "latex" else f"  % {norm}"
    out.end_math()
    if len(with_grads) > MAX_LEAVES_SHOWN:
        out.note(f"... and {len(with_grads) - MAX_LEAVES_SHOWN} more leaves", level=1)
    return out.text()


def _explain_node(out, N, namer, node, tensor_of, root_name, node_grads, contributions) -> None:
    """One node's chain rule: for each input that needs a gradient, local, upstream, product."""
    op, t = node.prim.name, tensor_of[node]
    out_name = namer(t)
    operands = [_written(N, namer, i) for i in node.inputs]
    out.note(f"at {N.name(out_name)} = {forward_formula(N, op, operands, node.params)}:", level=1)
    upstream = node_grads[node]
    consumers = [g for (n, i), g in contributions.items() if n.inputs[i] is t and n is not node]
    upstream_parts = []
    if len(consumers) > 1:
        upstream_parts = [" + ".join(N.operand(show_value(N, g)) for g in consumers)]
    if len(consumers) > 1:
        out.note(f"{N.name(out_name)} is used {len(consumers)} times, so the gradients reaching it add up",
                 level=2)
    scalar = all(i._data.size == 1 for i in node.inputs) and t._data.size == 1
    out.equation("upstream", N.d(root_name, out_name), upstream_parts + [show_value(N, upstream)], level=2)
    for index, source in enumerate(node.inputs):
        if not source.requires_grad or (node, index) not in contributions:
            continue
        source_name = namer(source)
        local_lhs = N.partial(out_name, source_name)
        result = show_value(N, contributions[(node, index)])
        if op in ELEMENTWISE and node.prim.vjps and index < len(node.prim.vjps):
            values = [show_value(N, i._data) if i._data.size == 1 else _written(N, namer, i)
                      for i in node.inputs]
            local = _local_values(node, index)
            by_name = local_formula(N, op, index, operands, N.name(out_name), node.params)
            by_value = local_formula(N, op, index, values, show_value(N, t._data), node.params) \
                if scalar else None
            out.equation("local", local_lhs, [by_name, by_value, show_value(N, local)], level=2)
            joiner = N.times if scalar else (" ⊙ " if N.style != "latex" else " \\odot ")
            symbolic = None if t is tensor_of[None] else N.d(root_name, out_name) + joiner + local_lhs
            product = show_value(N, upstream) + joiner + N.operand(show_value(N, local)) if scalar else None
            out.equation("product", N.d(root_name, source_name), [symbolic, product, result], level=2)
        else:
            words = VJP_WORDS.get(op, ())
            rule = words[index] if index < len(words) else f"the vector-Jacobian product of '{op}'"
            rule = rule.format(*operands, up=N.d(root_name, out_name))
            out.note(f"{op} is not element-wise: its local derivative is a Jacobian, applied as {rule}",
                     level=2)
            out.equation("product", N.d(root_name, source_name), [result], level=2)
