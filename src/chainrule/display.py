"""How tensors and modules show themselves in a notebook (Jupyter's rich display, HTML).

    t            # last line of a cell: a header (shape, dtype, grad_fn / requires_grad, grad)
                 # over the values, printed as repr() prints them
    model        # the parameter table: name, shape, count, requires_grad, and the totals

IPython asks an object for ``_repr_html_`` and falls back to ``repr``; ``Tensor`` and
``nn.Module`` answer with the functions below. ``repr()`` itself does not change. The HTML is
plain (a table, a ``<pre>``), escaped with the standard library, and styled only inline, so it
reads the same in JupyterLab, Colab, VS Code and a page exported by nbconvert. Words go
through ``chainrule.locale`` (English or Japanese); names of code (``requires_grad``,
``grad_fn``) stay as they are.

This module is at the core's level: it imports only the backend and the locale, so that
tensor.py may use it.
"""

from __future__ import annotations

import base64
import html

from .backend import np
from .locale import _, _n

TABLE_STYLE = "border-collapse:collapse;font-size:0.9em"
CELL_STYLE = "padding:2px 10px;text-align:{align};border-bottom:1px solid #ddd"
PRE_STYLE = "margin:4px 0;font-size:0.85em;line-height:1.3"


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def shape_text(shape) -> str:
    """(3, 4) → "3×4"; a 0-d tensor → "scalar" (in the reader's language)."""
    return "×".join(str(s) for s in shape) if len(shape) else _("scalar")


def html_table(headings: list, rows: list, footer: list | None = None, numeric: set = frozenset()) -> str:
    """A small HTML table; ``numeric`` holds the indices of right-aligned columns."""
    def cells(values, tag):
        return "".join(f"<{tag} style=\"{CELL_STYLE.format(align='right' if i in numeric else 'left')}\">"
                       f"{escape(v)}</{tag}>" for i, v in enumerate(values))
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    foot = f"<tfoot><tr style=\"font-weight:bold\">{cells(footer, 'td')}</tr></tfoot>" if footer else ""
    return (f"<table style=\"{TABLE_STYLE}\"><thead><tr>{cells(headings, 'th')}</tr></thead>"
            f"<tbody>{body}</tbody>{foot}</table>")


def png_html(png: bytes, alt: str, width: int | None = None) -> str:
    """A PNG embedded in the page (a data URI: the notebook file carries it, nothing is linked)."""
    data = base64.b64encode(png).decode("ascii")
    size = f" width=\"{width}\"" if width else ""
    return f"<img src=\"data:image/png;base64,{data}\" alt=\"{escape(alt)}\"{size}/>"


def tensor_header(t) -> list:
    """The facts a reader wants before the numbers: shape, dtype, where it came from, its grad."""
    parts = [_("shape {shape}").format(shape=shape_text(t.shape)), str(t._data.dtype)]
    if t._prim is not None:
        parts.append(f"grad_fn={t._node.name}")
    elif t.requires_grad:
        parts.append("requires_grad=True")
    if t.name:
        parts.append(_("name {name}").format(name=t.name))
    if t.grad is not None:
        parts.append(_("grad: norm {norm:.4g}").format(norm=float(np.linalg.norm(
            np.asarray(t.grad._data, dtype=np.float64)))))
    return parts


def tensor_html(t) -> str:
    """``Tensor._repr_html_``: one header line, then the values as ``repr`` shows them."""
    header = " · ".join(escape(p) for p in tensor_header(t))
    kind = "tensor" if type(t).__name__ == "Tensor" else type(t).__name__
    return (f"<div><div style=\"font-size:0.85em;color:#555\"><b>{escape(kind)}</b> · {header}</div>"
            f"<pre style=\"{PRE_STYLE}\">{escape(repr(t))}</pre></div>")


def parameter_rows(module) -> tuple:
    """([name, shape, count, requires_grad] per parameter, total count, trainable count)."""
    rows, total, trainable = [], 0, 0
    for name, p in module.named_parameters():
        count = int(p._data.size)
        rows.append([name, shape_text(p.shape), f"{count:,}", "True" if p.requires_grad else "False"])
        total += count
        trainable += count if p.requires_grad else 0
    return rows, total, trainable


def module_html(module) -> str:
    """``Module._repr_html_``: the totals, the parameter table, and the structure (repr) folded."""
    rows, total, trainable = parameter_rows(module)
    summary = _n("{model}: {total} parameter ({trainable} trainable) in {tensors} tensors",
                 "{model}: {total} parameters ({trainable} trainable) in {tensors} tensors", total).format(
        model=type(module).__name__, total=f"{total:,}", trainable=f"{trainable:,}", tensors=len(rows))
    headings = [_("parameter"), _("shape"), _("count"), "requires_grad"]
    none = _("(no parameters)")
    table = html_table(headings, rows, footer=[_("total"), "", f"{total:,}", ""], numeric={2}) if rows \
        else f"<p>{escape(none)}</p>"
    summary_word = _("structure")
    structure = (f"<details><summary>{escape(summary_word)}</summary>"
                 f"<pre style=\"{PRE_STYLE}\">{escape(repr(module))}</pre></details>")
    return f"<div><div><b>{escape(summary)}</b></div>{table}{structure}</div>"
