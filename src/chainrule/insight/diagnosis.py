"""Diagnosis from per-layer gradient norms: vanishing, exploding, uneven, and the lesson's remedies.

Given the weight-gradient norm of each layer (input side first), the rules are:

    exploding   a norm is Inf/NaN or above EXPLODE_ABSOLUTE, or the first layer's norm is more
                than EXPLODE_RATIO times the output layer's (growing toward the input)
    vanishing   a layer's norm is below VANISH_ABSOLUTE or below VANISH_RATIO times the output
                layer's (shrinking toward the input)
    uneven      neither, but one layer's norm is more than SPREAD_RATIO times the median of the
                other layers: it takes far larger steps than the rest (e.g. the output layer of a
                sigmoid net with residual connections, 13.7 against about 0.4 everywhere else)

``GradientFlow`` (flow.py) applies them to a model it watched; ``diagnose_norms`` to norms that a
caller keeps itself (the playground).
"""

from __future__ import annotations

from ..backend import np
from ..display import escape, html_table
from ..locale import N_, _, current_language, display_width, language, pad

VANISH_RATIO = 1e-3      # first layer's gradient below this fraction of the output layer's
VANISH_ABSOLUTE = 1e-7   # or a layer's gradient norm below this
EXPLODE_RATIO = 1e3      # first layer's gradient above this multiple of the output layer's
EXPLODE_ABSOLUTE = 1e4   # or any gradient norm above this
EXPLODE_GROWTH = 1e2     # or norms growing by this factor over training
SPREAD_RATIO = 10.0      # a layer's gradient norm this many times the median of the other layers
DEAD_FRACTION = 0.5      # a ReLU layer with at least this fraction of dead units
LARGE_UPDATE = 0.1       # an optimiser step moving weights by more than 10%

REMEDIES = {  # translated where shown
    "vanishing": N_(
        "Remedies from the lesson: use ReLU (its derivative is 1 for positive inputs, so it does not shrink "
        "the gradient); add residual (skip) connections, which give the gradient a highway past the layers; "
        "add batch normalisation to keep values in the range where derivatives are not tiny."),
    "exploding": N_(
        "Remedies from the lesson: clip the gradients (nn.utils.clip_grad_norm_(model.parameters(), 1.0) "
        "between backward() and step()); lower the learning rate (w_new = w_old − lr × gradient: too large a "
        "step overshoots and feeds on itself); batch normalisation keeps values in a healthy range."),
    "uneven": N_(
        "With SGD a layer whose gradient is far larger than the others' takes far larger steps: it can "
        "destabilise training while the rest barely move. The usual cause is a large input to that layer (a "
        "residual stream adds up every block's output, so it grows with depth). Normalise that input (batch "
        "or layer normalisation), scale the residual branches down, clip the gradient norm, or use Adam, "
        "which scales each parameter's step by its own gradient size."),
    "dead_relu": N_(
        "Dead ReLUs output 0 for every input, so their derivative is 0 and they never recover. Lower the "
        "learning rate, use LeakyReLU (a small slope for negative inputs), or add batch normalisation."),
    "large_updates": N_(
        "Each step moves the weights by a large fraction of their size: the learning rate is probably too "
        "high (a healthy update-to-weight ratio is around 1e-3)."),
}


KIND_WORDS = {"vanishing": N_("VANISHING"), "exploding": N_("EXPLODING"), "uneven": N_("UNEVEN"),
              "dead_relu": N_("DEAD RELU"), "large_updates": N_("LARGE UPDATES")}
HEALTHY = N_("Healthy: gradient norms stay within a few orders of magnitude from the output layer back to "
             "the input layer, with no Inf/NaN and no dead ReLU layers.")
# a diagnosis as a word in a sentence or a legend
KIND_NAMES = {"vanishing": N_("vanishing"), "exploding": N_("exploding"), "uneven": N_("uneven"),
              "dead_relu": N_("dead_relu"), "large_updates": N_("large_updates")}
# the per-layer table's column headings (the rows' keys stay English: they are data)
HEADINGS = (N_("layer"), N_("grad norm"), N_("update/weight"), N_("act std"), N_("dead ReLU"),
            N_("Linear layer"))


class Finding:
    """One diagnosis: ``kind`` ("vanishing", "exploding", "uneven", "dead_relu", "large_updates"), the layers
    concerned (input first) and an explanation in words with the lesson's remedies."""

    def __init__(self, kind: str, layers: list, message: str):
        self.kind, self.layers, self.message = kind, list(layers), message

    def __repr__(self) -> str:
        return f"Finding({self.kind!r}, layers={self.layers})"


class FlowReport:
    """The findings and the per-layer table; ``str(report)`` is the text for a reader, in the
    language the report was made in (``lang``: "en" or "ja", None for the environment's)."""

    def __init__(self, findings: list, table: list, steps: int, lang: str | None = None):
        self.findings, self.table, self.steps = findings, table, steps
        self.lang = lang or current_language()

    @property
    def kinds(self) -> set:
        return {f.kind for f in self.findings}

    @property
    def healthy(self) -> bool:
        return not self.findings

    def __contains__(self, kind: str) -> bool:
        return kind in self.kinds

    def __str__(self) -> str:
        with language(self.lang):
            lines = [_("Gradient flow over {steps} step(s), layers listed from the input:").format(
                steps=self.steps), format_table(self.table), ""]
            if not self.findings:
                lines.append(_(HEALTHY))
            for finding in self.findings:
                lines.append(f"{_(KIND_WORDS[finding.kind])}: {finding.message}")
                lines.append("  " + _(REMEDIES[finding.kind]))
            return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """A notebook's view: the per-layer table, then each finding with the lesson's remedies."""
        with language(self.lang):
            return findings_html(self.findings, self.table, self.steps)


def findings_html(findings: list, table: list, steps: int) -> str:
    """The report as HTML: a heading, the table (headings translated), the findings in colour."""
    heading = _("Gradient flow over {steps} step(s), layers listed from the input:").format(steps=steps)
    parts = [f"<p><b>{escape(heading)}</b></p>"]
    if table:
        keys = list(table[0])
        parts.append(html_table([_(k) if k in HEADINGS else k for k in keys],
                                [[_cell(row[k]) for k in keys] for row in table],
                                numeric=set(range(1, len(keys)))))
    else:
        parts.append(f"<p>{escape(_('(no gradients recorded yet: run a backward pass)'))}</p>")
    if not findings:
        parts.append(f"<p style=\"color:#1a7f37\">{escape(_(HEALTHY))}</p>")
    for finding in findings:
        parts.append(f"<p><b style=\"color:#b42318\">{escape(_(KIND_WORDS[finding.kind]))}</b>: "
                     f"{escape(finding.message)}<br/><i>{escape(_(REMEDIES[finding.kind]))}</i></p>")
    return "<div>" + "".join(parts) + "</div>"


def format_table(rows: list) -> str:
    """Rows of dicts as aligned text columns (the keys of the first row are the headings, in the
    current language; wide characters count two columns)."""
    if not rows:
        return _("(no gradients recorded yet: run a backward pass)")
    keys = list(rows[0])
    headings = [_(h) if h in HEADINGS else h for h in keys]
    cells = [[_cell(row[h]) for h in keys] for row in rows]
    widths = [max(display_width(h), *(display_width(c[i]) for c in cells)) for i, h in enumerate(headings)]
    out = ["  ".join(pad(h, w) for h, w in zip(headings, widths))]
    out += ["  ".join(pad(c, w) for c, w in zip(cell_row, widths)) for cell_row in cells]
    return "\n".join(out)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2e}" if np.isfinite(value) else str(value)
    return str(value)


def vanishing_findings(labels: list, norms: list) -> list:
    """Vanishing gradients from per-layer gradient norms (input side first, None for unknown)."""
    known = [(label, m) for label, m in zip(labels, norms) if m is not None]
    if not known:
        return []
    output_label, output_norm = known[-1]
    starved = [label for label, m in known
               if m < VANISH_ABSOLUTE or (len(known) > 1 and m < VANISH_RATIO * output_norm)]
    if not starved:
        return []
    first_label, first_norm = known[0]
    if output_norm == 0:
        return [Finding("vanishing", starved, _(
            "no gradient reaches the weight layers at all (every norm is 0): the units are saturated or "
            "dead, so nothing learns."))]
    per_layer = (first_norm / output_norm) ** (1 / max(len(known) - 1, 1)) if output_norm > 0 else 0.0
    named = ", ".join(starved[:3]) + (_(" and {count} more").format(count=len(starved) - 3)
                                      if len(starved) > 3 else "")
    message = _("the gradients shrink toward the input, by about ×{factor:.2g} per layer: the output layer "
                "{output} gets norm {output_norm:.2e} but the first layer {first} gets {first_norm:.2e}. The "
                "first layers ({named}) receive almost no signal and barely learn.").format(
                    factor=per_layer, output=output_label, output_norm=output_norm, first=first_label,
                    first_norm=first_norm, named=named)
    return [Finding("vanishing", starved, message)]


def growth_toward_input(labels: list, norms: list) -> list:
    """Exploding gradients seen as norms growing from the output layer back to the input."""
    known = [(label, m) for label, m in zip(labels, norms) if m is not None]
    if not known:
        return []
    (first_label, first_norm), (output_label, output_norm) = known[0], known[-1]
    if len(known) > 1 and output_norm > 0 and first_norm > EXPLODE_RATIO * output_norm:
        return [Finding("exploding", [first_label], _(
            "the gradients grow toward the input: {output_norm:.2e} at {output}, {first_norm:.2e} at "
            "{first}.").format(output_norm=output_norm, output=output_label, first_norm=first_norm,
                               first=first_label))]
    return []


def spread_findings(labels: list, norms: list) -> list:
    """A layer whose gradient norm stands far above the rest: more than SPREAD_RATIO times the
    median of the other layers (needs at least three layers to say what "the rest" is).

    Neither vanishing nor exploding, yet not healthy: e.g. a sigmoid net with residual
    connections whose output layer gets 13.7 while every other layer gets about 0.4."""
    known = [(label, m) for label, m in zip(labels, norms) if m is not None and np.isfinite(m) and m > 0]
    if len(known) < 3:
        return []
    outliers = []
    for i, (label, norm) in enumerate(known):
        typical = float(np.median([m for j, (_, m) in enumerate(known) if j != i]))
        if norm > SPREAD_RATIO * typical:
            outliers.append((label, norm, typical))
    if not outliers:
        return []
    described = _("; ").join(_("{layer} gets {norm:.2e}, {ratio:.0f}× the median of the other layers "
                               "({typical:.2e})").format(layer=label, norm=norm, ratio=norm / typical,
                                                         typical=typical)
                             for label, norm, typical in outliers[:3])
    return [Finding("uneven", [outlier[0] for outlier in outliers],
                    _("one layer's gradient stands far above the rest: {described}.").format(
                        described=described))]


def huge_norms(worst: float, layers: list) -> str:
    return _("gradient norms reached {worst:.2e} (in {layers}).").format(
        worst=worst, layers=", ".join(layers[:3]))


def diagnose_norms(labels: list, norms: list, spread: bool = False) -> list:
    """Findings from one reading of per-layer weight-gradient norms (input side first): Inf/NaN
    or huge norms, growth toward the input (exploding), shrinking toward the input (vanishing),
    and with ``spread=True`` a layer far above the others (uneven) when neither of those holds.
    For callers that keep their own norms, such as the playground."""
    broken = [label for label, n in zip(labels, norms) if not np.isfinite(n)]
    if broken:
        return [Finding("exploding", broken, _("the gradient of {layers} is not finite (NaN or infinite): "
                                               "the updates "
                                               "overflowed.").format(layers=", ".join(broken[:3])))]
    huge = [label for label, n in zip(labels, norms) if n > EXPLODE_ABSOLUTE]
    if huge:
        return [Finding("exploding", huge, huge_norms(max(norms), huge))]
    findings = growth_toward_input(labels, norms) or vanishing_findings(labels, norms)
    return findings or (spread_findings(labels, norms) if spread else [])
