"""The plan written out as Python: one straight-line function for the forward, one for the backward.

For W2's model (Linear 2-16, ReLU, Linear 16-16, ReLU, Linear 16-1) the forward reads

    def forward(A, R):
        a0 = A[0]
        r0 = R[0]._data
        ...
        s0 = f0(a0, r0, r1)                      # linear
        s1 = f1(s0)                              # relu
        ...
        return (s4,), (a0, s1, s3, r0, r2, r4)   # the outputs, the values the backward reads

and the backward applies each op's VJPs in the order the engine's walk would (so the sums come out
bitwise the same), with the engine's per-gradient care inlined: a NumPy scalar made an array, a
broadcast input's gradient summed back to its shape, the input's dtype kept:

    def backward(G, S):
        a0, s1, s3, r0, r2, r4 = S
        g4 = G[0]
        c = v4_0(xp, g4, y4, s3, r4, r5)         # linear, input 0
        if c.shape != k3: c = _sum_to_shape(c, k3)
        g3 = c
        ...
        return [l0, l1, l2, l3, l4, l5]          # dL/d(each tensor the block takes)

No node objects, no sort, no dict of gradients: names in a function (``Plan.source`` shows it).
``Emitter`` holds the constants the code refers to (the primitives' functions, shapes, params).
"""

from __future__ import annotations

import linecache

from ..backend import np
from ..engine import _sum_to_shape
from ..ops.namespaces import ARRAYS
from .forms import NAMESPACE, Context, forward_form, vjp_form


class Emitter:
    """Names for the objects generated code refers to, and the namespace it runs in."""

    _built = 0

    def __init__(self):
        self.namespace = {"np": np, "xp": ARRAYS, "_nd": np.ndarray, "_asarray": np.asarray,
                          "_sum_to_shape": _sum_to_shape, **NAMESPACE}
        self._names: dict[int, str] = {}

    def constant(self, value, prefix: str = "c") -> str:
        name = self._names.get(id(value))
        if name is None or self.namespace.get(name) is not value:
            name = f"{prefix}{len(self._names)}"
            self._names[id(value)] = name
            self.namespace[name] = value
        return name

    def build(self, source: str, name: str):
        """Compile ``source`` (defining ``name``) in the namespace. The source is registered with
        linecache under a unique file name, so tracebacks and profilers show the generated lines."""
        Emitter._built += 1
        filename = f"<chainrule.compiler {name} #{Emitter._built}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), self.namespace)  # noqa: S102 - our own generated code
        return self.namespace[name]


def value_expression(binding, emitter: Emitter) -> str:
    kind = binding[0]
    if kind == "arg":
        return f"a{binding[1]}"
    if kind == "ref":
        return f"r{binding[1]}"
    if kind == "slot":
        return f"s{binding[1]}"
    if kind == "const":
        return emitter.constant(binding[1])
    parts = [value_expression(b, emitter) for b in binding[1]]
    if kind == "tuple":
        return "(" + "".join(p + ", " for p in parts) + ")"
    return "[" + ", ".join(parts) + "]"


def used_values(binding, into: set) -> None:
    """The arg/ref/slot values a binding reads."""
    if binding[0] in ("arg", "ref", "slot"):
        into.add(binding[:2])
    elif binding[0] in ("tuple", "list"):
        for part in binding[1]:
            used_values(part, into)


def _load(value) -> str:
    kind, index = value
    return f"a{index} = A[{index}]" if kind == "arg" else f"r{index} = R[{index}]._data"


def forward_source(plan, emitter: Emitter) -> str:
    """``forward(A, R) -> (outputs, saved)``: A the arguments' arrays, R the referenced tensors."""
    loads, body = set(), []
    for op in plan.ops:
        for binding in list(op.inputs) + list(op.params.values()):
            used_values(binding, loads)
    for binding in plan.output_bindings:
        used_values(binding, loads)
    for value in plan.saved:
        loads.add(value)
    for op in plan.ops:
        operands = [value_expression(b, emitter) for b in op.inputs]
        form = forward_form(Context(op, operands, plan, emitter))
        if form is not None:   # forms are shape-deterministic: no check of the result's shape
            body += [line.format(out=f"s{op.index}") for line in form.lines]
            body[-1] += f"    # {op.prim.name}"
            continue
        function = emitter.constant(op.prim.forward, "f")
        arguments = operands + [f"{name}={value_expression(b, emitter)}" for name, b in op.params.items()]
        body.append(f"s{op.index} = {function}({', '.join(arguments)})    # {op.prim.name}")
        shape = emitter.constant(op.shape, "k")
        body.append(f"if s{op.index}.shape != {shape}: _changed({op.index}, s{op.index})")
        if op.shape == ():
            body.append(f"s{op.index} = _asarray(s{op.index})")
    lines = [_load(v) for v in sorted(v for v in loads if v[0] != "slot")] + body
    outputs = "".join(value_expression(b, emitter) + ", " for b in plan.output_bindings)
    saved = "".join(value_expression(v, emitter) + ", " for v in plan.saved)
    lines.append(f"return ({outputs}), ({saved})")
    return "def forward(A, R):\n" + "".join(f"    {line}\n" for line in lines)


class _Gradients:
    """Which gradient variables exist yet while the backward is written: 'sure' (assigned on every
    path) or 'maybe' (still None on some: a variadic op's VJP may hand back None)."""

    def __init__(self):
        self.state: dict[str, str] = {}
        self.fresh: set[str] = set()   # variables holding a temporary of the plan's own, held nowhere else

    def add(self, lines, pad: str, target: str, expression: str, conditional: bool) -> None:
        """Add ``expression`` into ``target``; ``conditional``: the line runs only on some paths
        (inside an ``if``; the caller has called ``declare`` first)."""
        state = self.state.get(target)
        self.fresh.discard(target)
        if state is None:
            assert not conditional, "declare() a target before a conditional contribution"
            lines.append(f"{pad}{target} = {expression}")
            self.state[target] = "sure"
        elif state == "sure":
            lines.append(f"{pad}{target} = {target} + {expression}")
            self.fresh.add(target)
        else:
            lines.append(f"{pad}{target} = {expression} if {target} is None else {target} + {expression}")
            if not conditional:
                self.state[target] = "sure"

    def declare(self, lines, pad: str, target: str) -> None:
        """Before a conditional contribution: a target not assigned yet starts as None."""
        if target not in self.state:
            lines.append(f"{pad}{target} = None")
            self.state[target] = "maybe"


def _fixes(lines, pad, shape_name, dtype_name) -> None:
    """What the engine's walk does to every gradient an op hands back (engine._walk)."""
    lines.append(f"{pad}if c.__class__ is not _nd: c = _asarray(c)")
    lines.append(f"{pad}if c.shape != {shape_name}: c = _sum_to_shape(c, {shape_name})")
    lines.append(f"{pad}if c.dtype != {dtype_name}: c = c.astype({dtype_name})")


def backward_source(plan, emitter: Emitter) -> str:
    """``backward(G, S, H) -> list``: G the outputs' gradients (None where none), S the saved values,
    H for each block input an array its gradient may be written into (or None: allocate)."""
    lines = []
    names = [value_expression(v, emitter) for v in plan.saved]
    if names:
        lines.append(f"    {', '.join(names)}, = S")
    if plan.node_bindings:
        lines.append(f"    {''.join(f'h{n}, ' for n in range(len(plan.node_bindings)))}= H")
    grads = _Gradients()
    single = len(plan.grad_output_slots) == 1
    for position, index in enumerate(plan.grad_output_slots):
        target = f"g{index}"
        if single:
            grads.add(lines, "    ", target, f"G[{position}]", conditional=False)
            continue
        grads.declare(lines, "    ", target)
        lines.append(f"    c = G[{position}]")
        lines.append("    if c is not None:")
        grads.add(lines, "        ", target, "c", conditional=True)
    for index in plan.order:
        op = plan.ops[index]
        target = f"g{index}"
        state = grads.state.get(target)
        if state is None:
            continue
        pad = "    "
        if state == "maybe":   # the op's contributions may not happen: their targets start as None
            for i, wanted in enumerate(op.input_grads):
                if wanted:
                    grads.declare(lines, pad, _target(plan, op.inputs[i]))
            lines.append(f"    if {target} is not None:")
            pad = "        "
        _backward_of_op(plan, op, lines, pad, grads, emitter)
    results = ", ".join(f"l{n}" if f"l{n}" in grads.state else "None" for n in range(len(plan.node_bindings)))
    lines.append(f"    return [{results}]")
    return "def backward(G, S, H):\n" + "".join(line + "\n" for line in lines)


def _target(plan, binding) -> str:
    """The variable an input's gradient adds into: g<slot> for an op's value, l<n> for the n-th
    tensor the block takes (an argument or a parameter)."""
    return f"g{binding[1]}" if binding[0] == "slot" else f"l{plan.node_index[binding]}"


def _operand(plan, op, position, binding, emitter) -> str:
    """What the VJP gets for an input: the value if its VJP reads it, else a stand-in with the
    value's shape and dtype (the VJP reads only those: primitive._reads)."""
    if op.prim.reads_input(position):
        return value_expression(binding, emitter)
    return emitter.constant(plan.stand_in(binding), "m")


def _backward_of_op(plan, op, lines, pad, grads, emitter) -> None:
    g = f"g{op.index}"
    output = f"s{op.index}"
    if not op.prim.reads_output:
        output = emitter.constant(plan.stand_in(("slot", op.index)), "m")
    operands = [_operand(plan, op, i, b, emitter) for i, b in enumerate(op.inputs)]
    params = "".join(f", {name}={value_expression(b, emitter)}" for name, b in op.params.items())
    variadic = op.prim.vjp_all is not None
    if variadic:
        function = emitter.constant(op.prim.vjp_all, "va")
        needs = emitter.constant(list(op.input_grads), "n")
        lines.append(f"{pad}t = {function}(xp, {g}, {output}, [{', '.join(operands)}], {needs}{params})"
                     f"    # {op.prim.name}")
    for i, wanted in enumerate(op.input_grads):
        if not wanted:
            continue
        binding = op.inputs[i]
        shape, dtype = plan.shape_dtype(binding)
        target = _target(plan, binding)
        inner = pad
        if variadic:
            grads.declare(lines, pad, target)
            lines.append(f"{pad}c = t[{i}]")
            lines.append(f"{pad}if c is not None:")
            inner = pad + "    "
        else:
            first = target not in grads.state and pad == "    "
            home = f"h{plan.node_index[binding]}" if first and binding[0] != "slot" else "None"
            form = vjp_form(Context(op, operands, plan, emitter), i, g, g in grads.fresh, output, home)
            if form is not None:
                direct = form.exact and first   # the first contribution: no temporary
                written = [pad + line.format(out=target if direct else "c") for line in form.lines]
                written[-1] += f"    # {op.prim.name}, input {i}"
                lines += written
                if direct:
                    grads.state[target] = "sure"
                    if form.fresh:
                        grads.fresh.add(target)
                    continue
            else:
                function = emitter.constant(op.prim.vjps[i], "v")
                lines.append(f"{pad}c = {function}(xp, {g}, {output}, {', '.join(operands)}{params})"
                             f"    # {op.prim.name}, input {i}")
            if form is not None and form.exact:   # already the input's shape and dtype
                grads.add(lines, inner, target, "c", conditional=pad != "    ")
                continue
        _fixes(lines, inner, emitter.constant(shape, "k"), emitter.constant(dtype, "d"))
        grads.add(lines, inner, target, "c", conditional=variadic or pad != "    ")
