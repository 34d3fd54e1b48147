"""What ``explain`` returns: the text, which a notebook shows with its formulas typeset.

    text = cr.explain(loss)        # an Explanation: a str, so print(), files, == and `in` work
    text                           # as the last line of a Jupyter cell: Markdown + LaTeX

``Explanation`` is a ``str`` holding exactly the text of the style asked for (text, markdown
or latex), so everything written for ``explain``'s string keeps working. It also carries the
notebook form, written from the same walk of the graph: Markdown headings and bullets with every
formula in LaTeX (dL/dw as a fraction), which Jupyter, JupyterLab, Colab and VS Code render
through ``_repr_markdown_``. Only Markdown is offered as the rich form: when an object offers
several, each front end picks its own favourite (nbconvert prefers LaTeX, JupyterLab Markdown),
and one form keeps what a learner sees the same everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class Explanation(str):
    """The chain rule written out: a ``str`` (the chosen style's text) with a notebook form."""

    notebook: str

    def __new__(cls, text: str, notebook: str | None = None) -> Explanation:
        explanation = super().__new__(cls, text)
        explanation.notebook = text if notebook is None else notebook
        return explanation

    def _repr_markdown_(self) -> str:
        """Markdown with the formulas in LaTeX, for Jupyter's rich display."""
        return self.notebook

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The IPython terminal shows the text as ``print`` would, not as a quoted string."""
        printer.text(str(self))

    def __reduce__(self) -> tuple[type[Explanation], tuple[str, str]]:
        return (Explanation, (str(self), self.notebook))
