"""Where a computation leaves the real numbers: each function's domain, and NaN/Inf.

``explain`` calls these for every node, so a value outside a function's domain is named at the
node where it happens, never passed on in silence:

    log(x), log1p(x)      need x > 0 (x > −1): log(0) = −∞, log(−1) is not a real number
    sqrt(x)               needs x ≥ 0; its slope 1/(2√x) is infinite at x = 0
    a / b                 needs b ≠ 0
    a ** p                a negative base to a fractional power is not real; 0 to a negative
                          power is a division by zero; d(a**b)/db = a**b × log(a) needs a > 0
    relu(x), abs(x)       no derivative at exactly 0 (the engine, like PyTorch, uses 0 there)

and for any op: NaN or ±Inf appearing in an output whose inputs were all finite (an overflow,
such as exp(1000)), or in a gradient whose upstream gradient was finite.
"""

from __future__ import annotations

from ..backend import np
from ..locale import _


def _op(N, op: str) -> str:
    """An op's name inside a sentence (escaped for Markdown and LaTeX)."""
    return N.math(N.name(op)) if N.style == "latex" else N.name(op)


def finite(array) -> bool:
    return bool(np.all(np.isfinite(np.asarray(array, dtype=float))))


def non_finite_word(N, array) -> str:
    """"nan", "inf", "−inf" or "nan and inf": what the non-finite entries of ``array`` are."""
    array = np.asarray(array, dtype=float)
    present = [value for value, test in ((np.nan, np.isnan), (np.inf, np.isposinf), (-np.inf, np.isneginf))
               if test(array).any()]
    return _(" and ").join(N.math(N.number(value)) for value in present)


def _where(N, name: str, value, mask, condition: str) -> str:
    """"x = −1" for a scalar, "3 of 16 entries of x are ≤ 0 (the first: −1)" for an array."""
    value, mask = np.asarray(value, dtype=float), np.broadcast_to(np.asarray(mask), np.shape(value))
    if value.size == 1:
        return f"{N.math(f'{name} = {N.number(value.reshape(()).item())}')}"
    first = value[mask].reshape(-1)[0]
    return _("{count} of {size} entries of {name} are {condition} (the first: {first})").format(
        count=int(mask.sum()), size=value.size, name=N.math(name), condition=N.math(condition),
        first=N.math(N.number(first)))


def _pow_rule(N, names, values, params) -> str | None:
    base = np.asarray(values[0], dtype=float)
    exponent = np.asarray(params["exponent"] if "exponent" in params else values[1], dtype=float)
    base, exponent = np.broadcast_arrays(base, exponent)
    fractional = (base < 0) & (exponent != np.round(exponent))
    if fractional.any():
        return _("a negative base to a fractional power is not a real number, but {where} with a fractional "
                 "exponent").format(where=_where(N, names[0], base, fractional, f"{names[0]} < 0"))
    pole = (base == 0) & (exponent < 0)
    if pole.any():
        return _("0 to a negative power divides by zero, but {where} with a negative exponent").format(
            where=_where(N, names[0], base, pole, f"{names[0]} = 0"))
    return None


def forward_problem(N, op: str, names: list, values: list, params: dict, output) -> str | None:
    """Why this node's value is outside the real numbers, or None when it is fine (or when an
    input was already NaN/Inf: the problem then began earlier, and was reported there)."""
    if not all(finite(v) for v in values):
        return None
    rule = None
    if op in ("log", "log1p"):
        limit = 0 if op == "log" else -1
        bad = np.asarray(values[0]) <= limit
        if bad.any():
            condition = f"{names[0]}{N.less_equal}{N.number(limit)}"
            rule = _("{op} is defined only for {condition}, but {where}").format(
                op=_op(N, op), condition=N.math(names[0] + " > " + N.number(limit)),
                where=_where(N, names[0], values[0], bad, condition))
    elif op == "sqrt":
        bad = np.asarray(values[0]) < 0
        if bad.any():
            rule = _("the square root is defined only for {condition}, but {where}").format(
                condition=N.math(names[0] + N.greater_equal + "0"),
                where=_where(N, names[0], values[0], bad, names[0] + " < 0"))
    elif op == "div":
        bad = np.asarray(values[1]) == 0
        if bad.any():
            rule = _("division by zero: {where}").format(
                where=_where(N, names[1], values[1], bad, names[1] + " = 0"))
    elif op == "pow":
        rule = _pow_rule(N, names, values, params)
    if rule is not None:
        word = non_finite_word(N, output)
        return rule + (_(", so the result is {value}").format(value=word) if word else "")
    if not finite(output):
        word = non_finite_word(N, output)
        if not np.isnan(np.asarray(output, dtype=float)).any():
            return _("{op} overflowed: the result ({value}) is beyond the largest floating-point number "
                     "(about 1.8e308 in float64, 3.4e38 in float32) although every input is finite").format(
                         op=_op(N, op), value=word)
        return _("{op} produced {value} from finite inputs").format(op=_op(N, op), value=word)
    return None


def backward_problem(N, op: str, upstream, local, product) -> str | None:
    """Why this node's contribution to a gradient stopped being finite, or None. ``local`` is the
    element-wise local derivative when known (else None); ``upstream`` dL/d(output)."""
    if not finite(upstream) or finite(product):
        return None
    if local is not None and not finite(local):
        reasons = {"sqrt": _("the square root has a vertical tangent at 0 (its slope, one over twice the "
                             "root, is infinite there)"),
                   "log": _("the slope of log, one over its input, is infinite at 0"),
                   "div": _("the slope of a quotient is infinite where the divisor is 0"),
                   "pow": _("a power's slope is not finite here (a fractional or negative power at 0, "
                            "or the log of a base that is not positive, for the exponent's derivative)")}
        return (_("the local derivative is {value} at this point: ").format(value=non_finite_word(N, local))
                + reasons.get(op, _("{op} has no finite slope here").format(op=_op(N, op))))
    return _("the gradient became {value} here: upstream times local overflowed although both are "
             "finite").format(value=non_finite_word(N, product))


def kink_note(N, op: str, values: list) -> str | None:
    """relu and abs have no derivative at exactly 0: say which value the engine uses."""
    if op in ("relu", "abs") and (np.asarray(values[0]) == 0).any():
        return _("{op} has no derivative at exactly 0 (a kink); chainrule, like PyTorch, uses the slope 0 "
                 "there").format(op=_op(N, op))
    return None
