"""How ``explain`` writes mathematics: three notations and the table of local derivatives.

One convention in every style (text, Markdown, LaTeX), so the two kinds of derivative never
share a symbol:

    ∂(out)/∂(in)   a LOCAL partial derivative: one op, its other inputs held fixed
    dL/d(v)        a TOTAL derivative: how L changes with v along every path from v to L
    dL/dx [path 2 of 3]   the part of dL/dx that flows through one use of x

A formula is built from the operands' *names* (``diff²``) and again from their *values*
(``(−4)²``) with the same template, so the reader sees the rule and then the numbers:

    L = diff² = (−4)² = 16
    ∂L/∂(diff) = 2 × diff = 2 × (−4) = −8

``FORWARD[op]`` writes what a node computes; ``LOCAL[op][i]`` writes its local derivative
∂(output)/∂(input i) for the element-wise ops, where the chain rule is a plain product, and
where a value is used several times its paths add (the multivariable chain rule):

    dL/d(input) = dL/d(output) × ∂(output)/∂(input)
    dL/dx = dL/dx [path 1] + dL/dx [path 2] + ...

Ops without a template (matmul, reductions, fused losses...) are described in words; their
numbers always come from the derivative table in ``chainrule.ops``.
"""

from __future__ import annotations

import math

from ..locale import N_, _

SUPERSCRIPTS = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


class TextNotation:
    """Plain Unicode text: dL/dw (total), ∂(wx)/∂w (local), ×, −4, diff²."""

    style = "text"      # how formulas are written (text, markdown, latex)
    layout = "text"     # how the lines are laid out (writer.py)
    times = " × "
    minus = " − "
    matmul = " @ "
    less_equal, greater_equal = " ≤ ", " ≥ "
    legend = N_("∂ marks a local derivative (one op, its other inputs held fixed); d marks a total "
                "derivative of L (every path to L added up)")
    forward_legend = N_("∂ marks a local derivative (one op, its other inputs held fixed); d marks a "
                        "total derivative with respect to the input we differentiate by (every path from "
                        "it added up): the tangent that travels with each value")

    def number(self, value: float) -> str:
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            text = str(value)
        elif value == 0:
            text = "0"
        elif abs(value) >= 1e5 or abs(value) < 1e-3:
            text = f"{value:.3e}"
        else:
            text = f"{value:.4g}"
        return self.negative(text)

    def negative(self, text: str) -> str:
        return text.replace("-", "−")

    def operand(self, text: str) -> str:
        """Parenthesise a negative number or a compound expression used inside another one."""
        if text.startswith(("−", "-")) or (" " in text and not text.startswith("(")):
            return f"({text})"
        return text

    def name(self, name: str) -> str:
        return name

    def d(self, of: str, wrt: str) -> str:
        """The total derivative dOf/dWrt, with names longer than one letter in parentheses."""
        return f"d{self._d_part(of)}/d{self._d_part(wrt)}"

    def partial(self, of: str, wrt: str) -> str:
        """A local (partial) derivative: ∂(diff)/∂(wx)."""
        return f"∂{self._d_part(of)}/∂{self._d_part(wrt)}"

    def path(self, of: str, wrt: str, number: int, count: int) -> str:
        """The part of dOf/dWrt that flows through one of wrt's ``count`` uses."""
        return self.d(of, wrt) + " " + _("[path {number} of {count}]").format(number=number, count=count)

    def slot(self, derivative: str, number: int) -> str:
        """A local derivative with respect to operand ``number`` (when one value fills two slots)."""
        return derivative + " " + _("[operand {number}]").format(number=number)

    def math(self, formula: str) -> str:
        """A formula inside a sentence."""
        return formula

    def inline(self, formula: str) -> str:
        """A formula inside a note: kept as it is (in LaTeX a note is a comment), except in the
        notebook style, whose notes are rendered Markdown."""
        return formula

    def warning(self, text: str) -> str:
        return _("⚠ warning: {text}").format(text=text)

    @staticmethod
    def _d_part(name: str) -> str:
        return name if len(name) == 1 else f"({name})"

    def power(self, base: str, exponent) -> str:
        base = self.operand(base)
        if isinstance(exponent, (int, float)) and float(exponent).is_integer() and exponent >= 0:
            return base + str(int(exponent)).translate(SUPERSCRIPTS)
        exponent_text = self.number(exponent) if isinstance(exponent, (int, float)) else exponent
        return f"{base}^{self.operand(exponent_text)}"

    def call(self, function: str, argument: str) -> str:
        return f"{function}({argument})"

    def sigma(self, argument: str) -> str:
        return f"σ({argument})"

    def indicator(self, condition: str) -> str:
        return f"[{condition}]"

    def transpose(self, name: str) -> str:
        return f"{self.operand(name)}ᵀ"


class MarkdownNotation(TextNotation):
    """Text notation, with the characters Markdown would swallow escaped."""

    style = "markdown"
    layout = "markdown"

    def name(self, name: str) -> str:
        return name.replace("_", "\\_").replace("*", "\\*")

    def warning(self, text: str) -> str:
        return _("**⚠ warning:** {text}").format(text=text)


class LatexNotation(TextNotation):
    """LaTeX for an ``align*`` block: \\frac{dL}{d w} (total), \\frac{\\partial L}{\\partial w} (local)."""

    style = "latex"
    layout = "latex"
    times = " \\times "
    minus = " - "
    matmul = " "
    less_equal, greater_equal = " \\le ", " \\ge "
    legend = N_("$\\partial$ marks a local derivative (one op, its other inputs held fixed); $d$ marks a "
                "total derivative of $L$ (every path to $L$ added up)")
    forward_legend = N_("$\\partial$ marks a local derivative (one op, its other inputs held fixed); $d$ "
                        "marks a total derivative with respect to the input we differentiate by (every path "
                        "from it added up): the tangent that travels with each value")

    def number(self, value: float) -> str:
        value = float(value)
        if math.isnan(value):
            return "\\mathrm{NaN}"
        if math.isinf(value):
            return "\\infty" if value > 0 else "-\\infty"
        return super().number(value)

    def negative(self, text: str) -> str:
        if "e" in text and not text.startswith(("i", "n")):
            mantissa, exponent = text.split("e")
            return f"{mantissa} \\cdot 10^{{{int(exponent)}}}"
        return text

    def name(self, name: str) -> str:
        escaped = name.replace("_", "\\_")
        return escaped if len(name) == 1 else f"\\mathrm{{{escaped}}}"

    def d(self, of: str, wrt: str) -> str:
        return f"\\frac{{dL}}{{d {self.name(wrt)}}}" if of == "L" else \
            f"\\frac{{d {self.name(of)}}}{{d {self.name(wrt)}}}"

    def partial(self, of: str, wrt: str) -> str:
        return f"\\frac{{\\partial {self.name(of)}}}{{\\partial {self.name(wrt)}}}"

    def path(self, of: str, wrt: str, number: int, count: int) -> str:
        words = _("path {number} of {count}").format(number=number, count=count)
        return f"\\left.{self.d(of, wrt)}\\right|_{{\\text{{{words}}}}}"

    def slot(self, derivative: str, number: int) -> str:
        words = _("operand {number}").format(number=number)
        return f"\\left.{derivative}\\right|_{{\\text{{{words}}}}}"

    def math(self, formula: str) -> str:
        return f"${formula}$"

    def warning(self, text: str) -> str:
        return _("\\textbf{{Warning:}} {text}").format(text=text)

    def operand(self, text: str) -> str:
        if text.startswith("-") or (" " in text and not text.startswith(("\\left(", "\\frac"))):
            return f"\\left({text}\\right)"
        return text

    def power(self, base: str, exponent) -> str:
        exponent_text = self.number(exponent) if isinstance(exponent, (int, float)) else exponent
        return f"{self.operand(base)}^{{{exponent_text}}}"

    def call(self, function: str, argument: str) -> str:
        known = {"exp", "log", "sin", "cos", "tanh", "sqrt"}
        head = f"\\{function}" if function in known else f"\\operatorname{{{function}}}"
        if function == "sqrt":
            return f"\\sqrt{{{argument}}}"
        return f"{head}\\left({argument}\\right)"

    def sigma(self, argument: str) -> str:
        return f"\\sigma\\left({argument}\\right)"

    def indicator(self, condition: str) -> str:
        return f"[{condition}]"

    def transpose(self, name: str) -> str:
        return f"{self.operand(name)}^{{\\top}}"


class NotebookNotation(LatexNotation):
    """What a notebook shows (``Explanation._repr_markdown_``): Markdown headings and bullets, as
    the markdown style, with every formula in LaTeX between dollars, which Jupyter, Colab and
    VS Code typeset (fractions for dL/dw and ∂(wx)/∂w)."""

    layout = "markdown"

    def inline(self, formula: str) -> str:
        return self.math(formula)

    def warning(self, text: str) -> str:
        return _("**⚠ warning:** {text}").format(text=text)


NOTATIONS = {"text": TextNotation, "markdown": MarkdownNotation, "latex": LatexNotation}


def _binary(symbol: str):
    def write(N, a, params):
        joiner = {"+": " + ", "-": N.minus, "*": N.times, "/": " / ", "@": N.matmul}[symbol]
        return N.operand(a[0]) + joiner + N.operand(a[1])
    return write


def _function(name: str):
    return lambda N, a, params: N.call(name, ", ".join(a))


def _pow_forward(N, a, params):
    return N.power(a[0], params["exponent"] if "exponent" in params else a[1])


FORWARD = {
    "add": _binary("+"), "sub": _binary("-"), "mul": _binary("*"), "div": _binary("/"),
    "matmul": _binary("@"), "pow": _pow_forward,
    "neg": lambda N, a, params: N.negative("-") + N.operand(a[0]),
    "sigmoid": lambda N, a, params: N.sigma(a[0]),
}


def forward_formula(N, op: str, operands: list, params: dict) -> str:
    """What a node computes, written with ``operands`` (names or values)."""
    return FORWARD.get(op, _function(op))(N, operands, params)


def _product(N, *factors) -> str:
    return N.times.join(N.operand(f) for f in factors)


def _pow_local_base(N, a, out, params):
    if "exponent" not in params:
        return _product(N, a[1], N.power(a[0], f"{a[1]}{N.minus}1"))
    p = params["exponent"]
    if p == 2:
        return _product(N, "2", a[0])
    return _product(N, N.number(p), N.power(a[0], p - 1) if p - 1 != 1 else a[0])


# LOCAL[op]: one template per input, (notation, operands, output, params) -> ∂out/∂input
LOCAL = {
    "add": (lambda N, a, out, p: "1", lambda N, a, out, p: "1"),
    "sub": (lambda N, a, out, p: "1", lambda N, a, out, p: N.negative("-1")),
    "mul": (lambda N, a, out, p: a[1], lambda N, a, out, p: a[0]),
    "div": (lambda N, a, out, p: f"1 / {N.operand(a[1])}",
            lambda N, a, out, p: N.negative("-") + f"{N.operand(a[0])} / {N.power(a[1], 2)}"),
    "pow": (_pow_local_base,
            lambda N, a, out, p: _product(N, out, N.call("log", a[0]))),
    "neg": (lambda N, a, out, p: N.negative("-1"),),
    "exp": (lambda N, a, out, p: N.call("exp", a[0]),),
    "log": (lambda N, a, out, p: f"1 / {N.operand(a[0])}",),
    "sqrt": (lambda N, a, out, p: f"1 / {N.operand(_product(N, '2', N.call('sqrt', a[0])))}",),
    "sin": (lambda N, a, out, p: N.call("cos", a[0]),),
    "cos": (lambda N, a, out, p: N.negative("-") + N.call("sin", a[0]),),
    "tanh": (lambda N, a, out, p: f"1{N.minus}{N.power(out, 2)}",),
    "sigmoid": (lambda N, a, out, p: _product(N, out, f"1{N.minus}{N.operand(out)}"),),
    "relu": (lambda N, a, out, p: N.indicator(f"{N.operand(a[0])} > 0"),),
    "abs": (lambda N, a, out, p: N.call("sign", a[0]),),
    "clone": (lambda N, a, out, p: "1",),
    "cast": (lambda N, a, out, p: "1",),
}

# element-wise ops: ∂out/∂in is diagonal, so the chain rule is an element-by-element product
ELEMENTWISE = set(LOCAL) | {"leaky_relu", "gelu", "softplus", "erf", "log1p", "maximum", "minimum",
                            "clamp", "where", "elu", "silu"}


def local_formula(N, op: str, index: int, operands: list, output: str, params: dict) -> str | None:
    """∂(output)/∂(operand ``index``) written with names or values, or None without a template."""
    templates = LOCAL.get(op)
    if templates is None or index >= len(templates):
        return None
    return templates[index](N, operands, output, params)


# how the VJP of the non-element-wise ops combines the upstream gradient, in words
VJP_WORDS = {  # {up}: the upstream gradient's name; {0}, {1}...: the operands' names (translated where used)
    "matmul": (N_("{up} @ {1}ᵀ"), N_("{0}ᵀ @ {up}")),
    "linear": (N_("{up} @ {1}"), N_("{up}ᵀ @ {0}"), N_("{up} summed over the batch")),
    "sum": (N_("{up} copied to every summed element"),),
    "mean": (N_("{up} / n, copied to every averaged element"),),
    "reshape": (N_("{up} reshaped back"),),
    "broadcast_to": (N_("{up} summed over the broadcast axes"),),
    "getitem": (N_("{up} placed back at the indexed positions (zeros elsewhere)"),),
    "cross_entropy": (N_("(softmax({0}) − one-hot(target)) / batch size, times {up}"),),
}
