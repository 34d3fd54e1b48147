"""Check a backward pass written by hand against autograd, and say where it first went wrong.

The exercise (Karpathy's "becoming a backprop ninja", makemore part 4): run a small MLP with
batch norm forward in chainrule, naming every value, then derive each gradient by hand with
array operations, from the loss back to the weights::

    values = dict(logits=logits, h=h, hpreact=hpreact, bnraw=bnraw, bnvar_inv=bnvar_inv, ...)
    grads = dict(logits=dlogits, h=dh, hpreact=dhpreact, ...)     # "dlogits" as keys works too
    report = check_manual_grads(loss, values, grads)
    report                          # in a notebook: the table, the diagnosis, the step explained
    print(report)                   # the same as text

For every gradient given, the report says exact (bit for bit), approximate (float rounding
only) or wrong, with the largest difference. For the FIRST wrong one in backward order (all
the gradients it was built from are right) it says which local derivative went wrong (see
grad_mistakes.py: a missing sum over a broadcast axis, a missing path, a factor of n, 1/2 or
−1, tanh differentiated at its input...) and shows that step's chain rule written out by
``explain``, on a copy of the step in which

    L = Σ over the steps u that read v of sum(u ⊙ du)       (du: the true gradient, a constant)

which has the same gradient with respect to v as the real loss. The truth is autograd's:
``cr.grad(loss, values)``; nothing of the learner's graph is changed and no ``.grad`` is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..autograd import grad as autograd_grad
from ..backend import np
from ..errors import ArgumentError, GraphError
from ..locale import N_, _, display_width, language, pad
from ..tensor import Tensor
from .explain import explain
from .grad_mistakes import diagnose
from .grad_steps import backward_order, find_steps, replay

if TYPE_CHECKING:
    from typing import Any

STATUS = (N_("exact"), N_("approximate"), N_("wrong"), N_("wrong shape"))   # translated where shown


def _tolerance(right: Any, dtype: Any) -> float:
    """How far float rounding alone can move a hand-written gradient."""
    scale = float(np.max(np.abs(right), initial=0.0))
    return (1e-4 * scale + 1e-7) if np.dtype(dtype).itemsize <= 4 else (1e-9 * scale + 1e-12)


def _as_array(value: Any, name: str) -> Any:
    if isinstance(value, Tensor):
        return np.asarray(value._data)
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(f"check_manual_grads: the gradient d{name} is a {type(value).__name__}, "
                            "not an array or a Tensor") from None


def check_manual_grads(loss: Tensor, values: dict, grads: dict, lang: str | None = None) -> ManualGradReport:
    """Compare hand-derived gradients with autograd and diagnose the first wrong one.

    loss    the scalar the forward pass ended with (a Tensor with a graph)
    values  {name: Tensor}: the values of the forward pass, by the names the gradients use
    grads   {name: array or Tensor}: the hand-derived dL/d(name); a key may also be "d" + name;
            None means not written yet (left out, as a gradient not given)
    lang    "en" or "ja" for the words (default: the environment's language)
    """
    if not isinstance(loss, Tensor) or loss._prim is None or loss._data.size != 1:
        raise ArgumentError("check_manual_grads: loss must be a scalar Tensor computed from tensors that "
                            "require grad (the end of the forward pass)")
    named = {}
    for name, t in dict(values).items():
        if not isinstance(t, Tensor):
            raise ArgumentError(f"check_manual_grads: values[{name!r}] is a {type(t).__name__}, not a Tensor")
        named[str(name)] = t
    if all(t is not loss for t in named.values()):
        named["loss"] = loss
    if any(t._prim is not None and t._inputs() is None for t in named.values()):
        raise GraphError("check_manual_grads: the graph was freed by loss.backward(); check the gradients "
                         "before calling backward(), or call loss.backward(retain_graph=True)")
    given = {}
    for key, value in dict(grads).items():
        key = str(key)
        if value is None:
            continue
        name = key if key in named else key[1:] if key.startswith("d") and key[1:] in named else None
        if name is None:
            raise ArgumentError(f"check_manual_grads: no value named {key!r} (or {key[1:]!r}) in values; "
                                f"the names are {', '.join(named)}")
        given[name] = _as_array(value, name)
    with language(lang) as chosen:
        return _check(loss, named, given, chosen)


def _check(loss: Any, named: Any, given: Any, lang: Any) -> ManualGradReport:
    wanted = [n for n, t in named.items() if t.requires_grad and t is not loss]
    truth = dict(zip(wanted, autograd_grad(loss, [named[n] for n in wanted], retain_graph=True,
                                           allow_unused=True)))
    truth = {n: (np.asarray(g._data) if g is not None else np.zeros_like(named[n]._data))
             for n, g in truth.items()}
    truth.update({n: np.ones_like(t._data) for n, t in named.items() if t is loss})
    steps = find_steps(named)
    rows = []
    for name in backward_order(loss, named, steps):
        if name not in given:
            continue
        if name not in truth:
            raise ArgumentError(f"check_manual_grads: {name} does not require grad, so it has no gradient to "
                                "check (it is data, like the inputs x)")
        got, right = given[name], truth[name]
        if got.shape != right.shape:
            rows.append({"name": name, "status": "wrong shape", "max_diff": None, "shape": got.shape})
            continue
        with np.errstate(all="ignore"):
            diff = float(np.max(np.abs(got.astype(np.float64) - right.astype(np.float64)), initial=0.0))
        status = "exact" if np.array_equal(got, right) else \
            "approximate" if diff <= _tolerance(right, named[name]._data.dtype) else "wrong"
        rows.append({"name": name, "status": status, "max_diff": diff, "shape": got.shape})
    first = next((row["name"] for row in rows if row["status"] in ("wrong", "wrong shape")), None)
    diagnosis, explanation = ([], None) if first is None else \
        _diagnose_first(first, named, given, truth, steps, {row["name"]: row["status"] for row in rows})
    return ManualGradReport(rows, first, diagnosis, explanation, lang)


def _diagnose_first(name: Any, named: Any, given: Any, truth: Any, steps: Any, statuses: Any) -> Any:
    value = named[name]
    readers = [step for step in steps.values() if step.reads(value)]
    upstream_words = {step.name: "" if statuses.get(step.name) in ("exact", "approximate")
                      else _(" (not given: autograd's)") for step in readers}
    contributions = [(step, step.contributions(truth[step.name])[id(value)]) for step in readers
                     if id(value) in step.contributions(truth[step.name])]
    lines = diagnose(name, value, given[name], truth[name], contributions, upstream_words)
    root = replay(readers, value, name, {step.name: truth[step.name] for step in readers})
    return lines, explain(root, max_nodes=12)


class ManualGradReport:
    """The outcome of ``check_manual_grads``: one row per gradient (backward order), the first
    wrong one, what went wrong there, and that step's chain rule written out (``explanation``)."""

    def __init__(self, rows: Any, first_wrong: Any, diagnosis: Any, explanation: Any, lang: Any) -> None:
        self.rows, self.first_wrong, self.lang = rows, first_wrong, lang
        self.diagnosis, self.explanation = diagnosis, explanation

    @property
    def ok(self) -> bool:
        """Every gradient given is exact or approximately right."""
        return self.first_wrong is None

    def status(self, name: str) -> str:
        """"exact", "approximate", "wrong" or "wrong shape" for d``name``."""
        name = name[1:] if name.startswith("d") and all(r["name"] != name for r in self.rows) else name
        return next(row["status"] for row in self.rows if row["name"] == name)

    def _cells(self) -> list:
        return [["d" + row["name"], "×".join(str(s) for s in row["shape"]) or "()", _(row["status"]),
                 "-" if row["max_diff"] is None else f"{row['max_diff']:.1e}"] for row in self.rows]

    def _headings(self) -> list:
        return [_("gradient"), _("shape"), _("result"), _("max difference")]

    def _summary(self) -> str:
        if not self.rows:
            return _("No gradients given yet: write them in the cells above (a gradient left as None is "
                     "skipped).")
        if self.ok:
            return _("All {count} gradients agree with autograd.").format(count=len(self.rows))
        return _("First mistake in backward order: d{name}").format(name=self.first_wrong)

    def _intro(self) -> str:
        return _("The step written out by explain, with L standing for Σ u ⊙ du over the steps u that read "
                 "{name} (du: the right upstream gradient, held constant): it has the same gradient with "
                 "respect to {name} as the real loss.").format(name=self.first_wrong)

    def __str__(self) -> str:
        with language(self.lang):
            cells = [self._headings()] + self._cells()
            widths = [max(display_width(row[i]) for row in cells) for i in range(4)]
            lines = [_("Your gradients against autograd, in backward order:")]
            lines += ["  " + "  ".join(pad(cell, w) for cell, w in zip(row, widths)).rstrip()
                      for row in cells]
            lines += ["", self._summary()]
            lines += ["  " + line for line in self.diagnosis]
            if self.explanation is not None:
                lines += ["", self._intro(), str(self.explanation).rstrip("\n")]
            return "\n".join(lines) + "\n"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        with language(self.lang):
            if not self.rows:
                return f"**{self._summary()}**"
            header = "| " + " | ".join(self._headings()) + " |\n|---|---|---|---:|\n"
            body = "".join("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |\n"
                           for row in self._cells())
            parts = [header + body, f"**{self._summary()}**"]
            parts += [line for line in self.diagnosis]
            if self.explanation is not None:
                parts += [f"*{self._intro()}*", self.explanation.notebook]
            return "\n\n".join(parts)
