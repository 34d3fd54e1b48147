"""The numbers as the page shows them, so an explanation can end on the very digits of a tooltip.

Every value the page labels travels rounded to 6 significant digits (``significant``), and both
sides print it with 4 significant digits: the page with JavaScript's ``toPrecision`` /
``toExponential``, the server with ``shown`` below, which rounds the same way (the exact binary
value, halves away from zero, as ECMAScript specifies), so the two strings are equal character
for character:

    |v| in [1e-3, 1e4)   ->  4 significant digits, trailing zeros dropped    0.005   -0.1189   12.5
    otherwise            ->  d.ddde±x (JavaScript's exponent form)             1.235e-5   2.000e+4
    0                    ->  0
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

DIGITS = 4          # significant digits the page prints
SENT_DIGITS = 6     # significant digits the state carries
SMALL = 8           # arrays up to this size are rounded one number at a time


def significant(values, digits: int = SENT_DIGITS) -> list | float:
    """``values`` (a number or an array) rounded to ``digits`` significant digits, as plain floats
    (lists for arrays); NaN and infinities pass through (the JSON layer turns them into null).

    The page and the explanations both format the double this returns, so all that matters is that
    both use it; the integer-over-power-of-ten division makes it the double nearest the rounded
    decimal, so it also reads short in JSON."""
    array = np.asarray(values, dtype=np.float64)
    if array.size <= SMALL:  # a few numbers: the string round trip is quicker than numpy's set-up
        flat = [_round_one(float(v), digits) for v in array.reshape(-1)]
        return flat[0] if array.ndim == 0 else np.array(flat).reshape(array.shape).tolist()
    with np.errstate(all="ignore"):
        usable = np.isfinite(array) & (array != 0)
        exponent = np.floor(np.log10(np.abs(np.where(usable, array, 1.0))))
        power = digits - 1 - exponent
        up, down = 10.0 ** np.maximum(power, 0), 10.0 ** np.maximum(-power, 0)
        rounded = np.where(power >= 0, np.round(array * up) / up, np.round(array / down) * down)
        result = np.where(usable, rounded, array)
    return float(result) if result.ndim == 0 else result.tolist()


def _round_one(value: float, digits: int) -> float:
    """One number through its decimal form: the same double as the array path (tested)."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits - 1}e}")


def _round_significant(value: float, digits: int) -> float:
    return _round_one(value, digits)


def shown(value: float) -> str:
    """``value`` as the page prints it (see the module docstring); '—' for NaN or None."""
    if value is None:
        return "—"
    value = float(value)
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    exact = Decimal(value)
    size = abs(value)
    if size < 1e-3 or size >= 1e4:
        exponent = exact.adjusted()
        mantissa = exact.scaleb(-exponent).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        if abs(mantissa) >= 10:
            exponent += 1
            mantissa = exact.scaleb(-exponent).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        return f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    quantum = Decimal(1).scaleb(exact.adjusted() - DIGITS + 1)
    rounded = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded.adjusted() > exact.adjusted():  # 9.9996 -> 10.00: one digit fewer after the point
        rounded = exact.quantize(quantum * 10, rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def shown_sent(value: float) -> str:
    """``shown`` of the value the page received: rounded to 6 significant digits first."""
    return shown(_round_significant(float(value), SENT_DIGITS))
