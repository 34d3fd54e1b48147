"""How ``explain`` lays out its lines: headings, equations, notes and warnings, in three styles.

    text       indented Unicode lines (a terminal)
    markdown   headings and bullet lists (also the notebook style: LaTeX formulas in Markdown)
    latex      an ``align*`` block per pass; notes become comments, while prose that the reader
               must see (the ∂/d legend, warnings) becomes ``\\intertext`` inside a block
"""

from __future__ import annotations

from collections import Counter

from ..backend import np
from ..locale import _, pad


class Writer:
    """Collects headings, equations, notes and warnings, and renders them in one style."""

    def __init__(self, notation):
        self.N, self.lines, self.in_math = notation, [], False

    def heading(self, title: str) -> None:
        style = self.N.layout
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
        style = self.N.layout
        if style == "latex":
            text = lhs + " &= " + " = ".join(chain) + " \\\\" + (f"  % {label}" if label else "")
        else:
            body = self.N.inline(lhs + " = " + " = ".join(chain))
            prefix = pad(label, 9) if label else ""
            text = ("  " * (level - 1) + "- " if style == "markdown" else "  " * level) + prefix + body
        self.lines.append(text)

    def summary_of_long_graph(self, order: list, leaves: list, shown: list) -> None:
        """When only the ``shown`` ops nearest the output are written out, first a Summary counting
        every op of the graph by name."""
        if len(shown) == len(order):
            return
        counts = Counter(node.prim.name for node in order)
        summary = ", ".join(f"{op} ×{n}" for op, n in counts.most_common())
        self.heading(_("Summary"))
        self.note(_("The graph has {ops} ops ({summary}) and {leaves} leaves; the {shown} ops nearest "
                    "the output are written out below.").format(ops=len(order), summary=summary,
                                                                leaves=len(leaves), shown=len(shown)))

    def note(self, text: str, level: int = 1) -> None:
        """A remark (a comment in LaTeX)."""
        style = self.N.layout
        if style == "latex":
            self.lines.append(f"% {text}")
        elif style == "markdown":
            self.lines.append("  " * (level - 1) + "- " + text)
        else:
            self.lines.append("  " * level + text)

    def prose(self, text: str, level: int = 1) -> None:
        """A sentence the reader must see in every style (LaTeX: \\intertext inside a block)."""
        if self.N.layout != "latex":
            self.note(text, level)
        elif self.in_math:
            self.lines.append(f"\\intertext{{{text}}}")
        else:
            self.lines.append(f"{text}\\par")

    def warning(self, text: str, level: int = 1) -> None:
        self.prose(self.N.warning(text), level)

    def begin_math(self) -> None:
        if self.N.layout == "latex":
            self.lines.append("\\begin{align*}")
            self.in_math = True

    def end_math(self) -> None:
        if self.N.layout == "latex":
            self.lines.append("\\end{align*}")
            self.in_math = False

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


def sum_of(N, parts: list) -> str:
    """a + b + c, each part after the first parenthesised when negative or compound."""
    return " + ".join([parts[0]] + [N.operand(p) for p in parts[1:]])
