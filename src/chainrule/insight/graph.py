"""Draw the computation graph of a tensor: leaves (with names), ops, values, shapes, gradients.

    drawing = draw_graph(loss, "graph.svg")     # SVG or PNG through Graphviz when it is installed
    print(drawing.message)                      # otherwise: DOT text written, and what to install
    print(to_dot(loss))                         # the DOT text itself (no dependency at all)
    draw_graph(loss)                            # in a notebook: drawn inline (SVG), no file written

Data flows left to right, as in the lesson's figure: leaves on the left, the output on the right.
Each box shows what was computed in the forward pass and, under it, dL/d(that value) from the
backward pass (computed here from the derivative table, without consuming the graph).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..backend import np
from ..locale import _
from ..tensor import Tensor
from .naming import _backward_walk, _given_names, _graph, _name_graph
from .notation import TextNotation
from .writer import show_value

try:  # optional extra: pip install chainrule[graph]
    import graphviz
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    graphviz = None

FORMATS = ("svg", "png", "pdf")
INSTALL_PACKAGE = "pip install chainrule[graph]  (the Python graphviz package)"
INSTALL_BINARY = "apt-get install graphviz  (macOS: brew install graphviz; the 'dot' program)"

COLORS = {"param": "#cfe2ff", "constant": "#e9ecef", "op": "#fff3cd", "output": "#f8d7da"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _describe(N, array) -> str:
    """A number, or "[4×16: 0.1, −2, 0.5, …]" (the shape, then the first values)."""
    return show_value(N, np.asarray(array))


def _leaf_line(dot_id: str, color: str, label: str) -> str:
    return f"  {dot_id} [shape=ellipse, fillcolor={_quote(color)}, label={_quote(label)}];"


def to_dot(tensor: Tensor, gradients: bool = True, max_nodes: int = 200, names=None) -> str:
    """The graph of ``tensor`` as Graphviz DOT text (ops as boxes, leaves as ellipses)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot expects a Tensor, got {type(tensor).__name__}")
    N = TextNotation()
    lines = ["digraph computation {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10, style=filled];',
             '  edge [color="#555555", fontname="Helvetica", fontsize=10];']
    if tensor._node is None:
        label = f"{tensor.name or 'tensor'}\n{_describe(N, tensor._data)}"
        lines += [_leaf_line("leaf0", COLORS["param"], label), "}"]
        return "\n".join(lines) + "\n"
    order, tensor_of, leaves = _graph(tensor)
    namer = _name_graph(tensor, order, tensor_of, leaves, _given_names(names))
    given_arrays = [(np.asarray(t._data), str(n)) for t, n in dict(names).items()
                    if isinstance(t, Tensor)] if isinstance(names, dict) else []
    node_grads, leaf_grads = ({}, {}) if not gradients else _backward_walk(tensor, order)[:2]
    shown = order[-max_nodes:] if max_nodes and len(order) > max_nodes else order
    ids = {node: f"op{i}" for i, node in enumerate(shown)}
    leaf_ids = {}
    for t in leaves:
        if any(t is i for node in shown for i in node.inputs):
            leaf_ids[id(t)] = f"leaf{len(leaf_ids)}"
            name = namer(t) or show_value(N, t._data)
            label = name if t._data.size == 1 and namer(t) is None else f"{name}\n{_describe(N, t._data)}"
            grad = leaf_grads.get(id(t))
            if grad is None and t.grad is not None:
                grad = t.grad._data
            if grad is not None:
                label += f"\ngrad {_describe(N, grad)}"
            color = COLORS["param"] if t.requires_grad else COLORS["constant"]
            lines.append(_leaf_line(leaf_ids[id(t)], color, label))
    if len(shown) < len(order):
        label = _("{count} earlier ops\n(not drawn)").format(count=len(order) - len(shown))
        lines.append(f'  earlier [shape=note, fillcolor="#ffffff", label={_quote(label)}];')
    for node in shown:
        t = tensor_of[node]
        heading = _op_heading(node.prim.name, namer(t))
        label = f"{heading} = {_describe(N, node.output)}".replace(" = [", "\n[")
        if node in node_grads:
            label += f"\ngrad {_describe(N, node_grads[node])}"
        color = COLORS["output"] if t is tensor else COLORS["op"]
        lines.append(f"  {ids[node]} [shape=box, fillcolor={_quote(color)}, label={_quote(label)}];")
        sources = [ids.get(t_in._node, "earlier") if t_in._node is not None else leaf_ids[id(t_in)]
                   for t_in in node.inputs]
        for source in dict.fromkeys(sources):   # a value used twice by one op (x * x): one arrow, "×2"
            uses = sources.count(source)
            lines.append(f"  {source} -> {ids[node]};" if uses == 1 else
                         f"  {source} -> {ids[node]} [label={_quote(f'×{uses}')}];")
        target = _target_label(N, node, given_arrays)
        if target:
            lines.append(f'  target{ids[node]} [shape=ellipse, style="filled,dashed", '
                         f'fillcolor={_quote(COLORS["constant"])}, label={_quote(target)}];')
            lines.append(f'  target{ids[node]} -> {ids[node]} [style=dashed];')
    lines.append("}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def _op_heading(op: str, name: str) -> str:
    """"mul\nwx" when the value has a name of its own; just "linear_2" when its name is the op's
    (an unnamed value is named after its op: writing both would say it twice)."""
    base = name.rstrip("0123456789").rstrip("_") if name[-1:].isdigit() else name
    return name if base == op or name == op else f"{op}\n{name}"


def _target_label(N, node, given_arrays) -> str | None:
    """The data a loss node compares against (held as a parameter, not an input): cross-entropy's
    class indices or target probabilities, named when the caller named them."""
    for key in ("target", "coefficients"):
        target = node.params.get(key)
        if isinstance(target, np.ndarray):
            name = next((n for array, n in given_arrays if array.size == target.size
                         and np.array_equal(array.reshape(target.shape), target)), None)
            heading = _("target {name}").format(name=name) if name else _("target")
            return f"{heading}\n{_describe(N, target)}\n" + _("(data: no gradient)")
    return None


class GraphDrawing:
    """What ``draw_graph`` produced: the DOT text, the file written (None when drawn for a
    notebook only), and a message for the reader.

    In Jupyter it shows itself as the picture (SVG): graphviz's own notebook display does the
    rendering. Without graphviz or its ``dot`` program it shows the message saying what to
    install, and the DOT text."""

    def __init__(self, dot: str, path: Path | None, rendered: bool, message: str):
        self.dot, self.path, self.rendered, self.message = dot, path, rendered, message

    def __repr__(self) -> str:
        path = None if self.path is None else str(self.path)
        return f"GraphDrawing(path={path!r}, rendered={self.rendered})"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        missing = _missing_renderer()
        if missing is None:
            try:
                return graphviz.Source(self.dot)._repr_mimebundle_(include=include, exclude=exclude)
            except Exception as err:  # a broken Graphviz install: say so, keep the DOT text
                missing = _("Graphviz could not render ({error})").format(
                    error=f"{type(err).__name__}: {str(err).splitlines()[0][:120]}")
        return {"text/plain": f"{missing}\n\n{self.dot}"}


def _missing_renderer() -> str | None:
    """Why no picture can be drawn here (what to install), or None when Graphviz is ready."""
    if graphviz is None:
        return _("graphviz is not installed: {install}").format(install=INSTALL_PACKAGE)
    if dot_program() is None:
        return _("Graphviz's 'dot' program is not installed: {install}").format(install=INSTALL_BINARY)
    return None


def dot_program() -> str | None:
    """Where Graphviz's ``dot`` program is, or None."""
    return shutil.which("dot")


def draw_graph(tensor: Tensor, path=None, format: str | None = None,  # noqa: A002
               **dot_options) -> GraphDrawing:
    """Render the graph of ``tensor`` to ``path`` (SVG/PNG/PDF, from the suffix or ``format``).

    Without the graphviz package or the ``dot`` program nothing fails: the DOT text is written
    next to ``path`` (suffix .dot) and the message says what to install to get a picture.
    Without ``path`` nothing is written: the drawing is for a notebook, which shows it inline."""
    dot = to_dot(tensor, **dot_options)
    if path is None:
        missing = _missing_renderer()
        return GraphDrawing(dot, None, missing is None, missing or _("graph drawn for the notebook"))
    path = Path(path)
    format = (format or path.suffix.lstrip(".") or "svg").lower()
    if format not in FORMATS + ("dot",):
        raise ValueError(f"draw_graph: format must be one of {FORMATS + ('dot',)}, got {format!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    missing = "" if format == "dot" else _missing_renderer()
    if missing is None:
        target = path if path.suffix else path.with_suffix("." + format)
        try:
            target.write_bytes(graphviz.Source(dot).pipe(format=format))
            return GraphDrawing(dot, target, True, _("graph drawn to {path}").format(path=target))
        except Exception as err:  # a broken Graphviz install must not lose the DOT text
            missing = _("Graphviz could not render ({error})").format(
                error=f"{type(err).__name__}: {str(err).splitlines()[0][:120]}")
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(dot, encoding="utf-8")
    if not missing:
        return GraphDrawing(dot, dot_path, False, _("DOT text written to {path}").format(path=dot_path))
    return GraphDrawing(dot, dot_path, False, _(
        "{missing}; wrote the DOT text to {path} instead (render it with: dot -T{format} {path} -o "
        "{target})").format(
            missing=missing, path=dot_path, format=format, target=path.with_suffix("." + format)))
