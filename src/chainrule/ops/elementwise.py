"""More elementwise functions: logs and exponentials in other bases, the rest of trigonometry,
two-input functions (atan2, hypot, logaddexp, lerp, xlogy), and the tests
(isinf, isclose...) that carry no gradient.

g = dL/dy; y is the output; da, db, dx are the inputs' tangents and dy the output's (forward
mode). ln = natural log. Every Jacobian here is diagonal, so the JVP multiplies each tangent by
the same factor as the VJP multiplies g.

    y = log10(x)          dL/dx = g / (x ln 10)                dy = dx / (x ln 10)
    y = log2(x)           dL/dx = g / (x ln 2)                 dy = dx / (x ln 2)
    y = exp2(x) = 2^x     dL/dx = g * y ln 2                   dy = y ln 2 dx
    y = expm1(x)          dL/dx = g * (y + 1)                  dy = (y + 1) dx  (= e^x dx; exact for tiny x)
    y = rsqrt(x)          dL/dx = -g * y^3 / 2                 dy = -y^3 / 2 dx
    y = 1 / x             dL/dx = -g * y^2                     dy = -y^2 dx
    y = x^2               dL/dx = 2 g x                        dy = 2 x dx
    y = tan(x)            dL/dx = g * (1 + y^2)                dy = (1 + y^2) dx
    y = asin(x)           dL/dx = g / sqrt(1 - x^2)            dy = dx / sqrt(1 - x^2)
    y = acos(x)           dL/dx = -g / sqrt(1 - x^2)           dy = -dx / sqrt(1 - x^2)
    y = atan(x)           dL/dx = g / (1 + x^2)                dy = dx / (1 + x^2)
    y = sinh(x)           dL/dx = g cosh(x)                    dy = cosh(x) dx
    y = cosh(x)           dL/dx = g sinh(x)                    dy = sinh(x) dx
    y = asinh(x)          dL/dx = g / sqrt(x^2 + 1)            dy = dx / sqrt(x^2 + 1)
    y = acosh(x)          dL/dx = g / sqrt(x^2 - 1)            dy = dx / sqrt(x^2 - 1)
    y = atanh(x)          dL/dx = g / (1 - x^2)                dy = dx / (1 - x^2)
    y = frac(x)           dL/dx = g                            dy = dx   (x - trunc(x): slope 1 between jumps)
    y = atan2(a, b)       dL/da = g b / (a^2 + b^2)            dL/db = -g a / (a^2 + b^2)   (0 at 0, 0)
                          dy = (da b - db a) / (a^2 + b^2)
    y = hypot(a, b)       dL/da = g a / y                      dL/db = g b / y
                          dy = (da a + db b) / y
    y = logaddexp(a, b)   dL/da = g / (1 + e^(b - a))          dL/db = g / (1 + e^(a - b))
                          dy = da / (1 + e^(b - a)) + db / (1 + e^(a - b))
    y = logaddexp2(a, b)  dL/da = g 2^(a - y)                  dL/db = g 2^(b - y)
                          dy = da 2^(a - y) + db 2^(b - y)
    y = lerp(s, e, w)     dL/ds = g (1 - w)   dL/de = g w      dL/dw = g (e - s)
                          dy = ds (1 - w) + de w + dw (e - s)
    y = xlogy(x, z)       dL/dx = g log z (0 where x = 0, z <= 0)   dL/dz = g x / z
                          dy = dx log z (the same 0) + dz x / z
    y = nan_to_num(x)     dL/dx = g where x is finite, else 0  dy = dx where x is finite, else 0

No gradient (piecewise constant, or a bool result): sgn, isinf,
isposinf, isneginf, isclose, signbit, logical/bitwise xor and not.
Built from others: clamp_min, clamp_max, addcmul, addcdiv, deg2rad, rad2deg.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .arithmetic import add, clamp, div, mul
from .operands import operands

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .._typing import Number, Operand

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def _quiet(function):
    """The NumPy function with its floating-point warnings off: log(0) = -inf is the answer, as in PyTorch."""
    def quiet(*arrays, **params):
        with np.errstate(all="ignore"):
            return function(*arrays, **params)
    return quiet


# --- one input ---------------------------------------------------------------------------------
log10_p = Primitive("log10", np.log10, lambda xp, g, y, x: g / (x * LN10),
                    jvp=(lambda xp, dx, y, x: dx / (x * LN10),))
log2_p = Primitive("log2", np.log2, lambda xp, g, y, x: g / (x * LN2),
                   jvp=(lambda xp, dx, y, x: dx / (x * LN2),))
exp2_p = Primitive("exp2", np.exp2, lambda xp, g, y, x: g * (y * LN2),
                   jvp=(lambda xp, dx, y, x: dx * (y * LN2),))
expm1_p = Primitive("expm1", np.expm1, lambda xp, g, y, x: g * (y + 1),
                    jvp=(lambda xp, dx, y, x: dx * (y + 1),))
rsqrt_p = Primitive("rsqrt", lambda x: 1 / np.sqrt(x), lambda xp, g, y, x: g * (y * y * y) * -0.5,
                    jvp=(lambda xp, dx, y, x: dx * (y * y * y) * -0.5,))
reciprocal_p = Primitive("reciprocal", np.reciprocal, lambda xp, g, y, x: -g * (y * y),
                         jvp=(lambda xp, dx, y, x: -dx * (y * y),))
square_p = Primitive("square", np.square, lambda xp, g, y, x: g * (x * 2),
                     jvp=(lambda xp, dx, y, x: dx * (x * 2),))
tan_p = Primitive("tan", np.tan, lambda xp, g, y, x: g * (y * y + 1),
                  jvp=(lambda xp, dx, y, x: dx * (y * y + 1),))
asin_p = Primitive("asin", np.arcsin, lambda xp, g, y, x: g / xp.sqrt(1 - x * x),
                   jvp=(lambda xp, dx, y, x: dx / xp.sqrt(1 - x * x),))
acos_p = Primitive("acos", np.arccos, lambda xp, g, y, x: -g / xp.sqrt(1 - x * x),
                   jvp=(lambda xp, dx, y, x: -dx / xp.sqrt(1 - x * x),))
atan_p = Primitive("atan", np.arctan, lambda xp, g, y, x: g / (x * x + 1),
                   jvp=(lambda xp, dx, y, x: dx / (x * x + 1),))
sinh_p = Primitive("sinh", np.sinh, lambda xp, g, y, x: g * xp.cosh(x),
                   jvp=(lambda xp, dx, y, x: dx * xp.cosh(x),))
cosh_p = Primitive("cosh", np.cosh, lambda xp, g, y, x: g * xp.sinh(x),
                   jvp=(lambda xp, dx, y, x: dx * xp.sinh(x),))
asinh_p = Primitive("asinh", np.arcsinh, lambda xp, g, y, x: g * (x * x + 1) ** -0.5,
                    jvp=(lambda xp, dx, y, x: dx * (x * x + 1) ** -0.5,))
acosh_p = Primitive("acosh", np.arccosh, lambda xp, g, y, x: g * (x * x - 1) ** -0.5,
                    jvp=(lambda xp, dx, y, x: dx * (x * x - 1) ** -0.5,))
atanh_p = Primitive("atanh", np.arctanh, lambda xp, g, y, x: g / (1 - x * x),
                    jvp=(lambda xp, dx, y, x: dx / (1 - x * x),))
frac_p = Primitive("frac", lambda x: x - np.trunc(x), lambda xp, g, y, x: g,
                   jvp=(lambda xp, dx, y, x: dx,))
nan_to_num_p = Primitive(
    "nan_to_num", lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
    lambda xp, g, y, x, nan, posinf, neginf: xp.where(xp.isfinite(x), g, 0.0),
    jvp=(lambda xp, dx, y, x, nan, posinf, neginf: xp.where(xp.isfinite(x), dx, 0.0),))

# --- two inputs --------------------------------------------------------------------------------
def _atan2_times(numerator_sign):
    """v * dy/da (numerator_sign +1: b / r^2) or v * dy/db (-1: -a / r^2): the VJP with v = g and
    the JVP's share with v = the operand's tangent (a diagonal Jacobian: the same product)."""
    def times(xp, v, y, a, b):   # at the origin the slope is taken as 0, as PyTorch does
        radius2 = a * a + b * b
        numerator = b if numerator_sign > 0 else -a
        return xp.where(radius2 == 0, 0.0, v * numerator / xp.where(radius2 == 0, 1.0, radius2))
    return times


atan2_p = Primitive("atan2", np.arctan2, _atan2_times(+1), _atan2_times(-1),
                    jvp=(_atan2_times(+1), _atan2_times(-1)))

hypot_p = Primitive(
    "hypot", np.hypot,
    lambda xp, g, y, a, b: g * a / y,
    lambda xp, g, y, a, b: g * b / y,
    jvp=(lambda xp, da, y, a, b: da * a / y,
         lambda xp, db, y, a, b: db * b / y))

logaddexp_p = Primitive(
    "logaddexp", np.logaddexp,
    lambda xp, g, y, a, b: g / (xp.exp(b - a) + 1),    # e^(a - y) written so that a = inf gives g
    lambda xp, g, y, a, b: g / (xp.exp(a - b) + 1),
    jvp=(lambda xp, da, y, a, b: da / (xp.exp(b - a) + 1),
         lambda xp, db, y, a, b: db / (xp.exp(a - b) + 1)))

logaddexp2_p = Primitive(
    "logaddexp2", np.logaddexp2,
    lambda xp, g, y, a, b: g * xp.exp((a - y) * LN2),
    lambda xp, g, y, a, b: g * xp.exp((b - y) * LN2),
    jvp=(lambda xp, da, y, a, b: da * xp.exp((a - y) * LN2),
         lambda xp, db, y, a, b: db * xp.exp((b - y) * LN2)))


def _lerp_forward(start, end, weight):
    """PyTorch's two-sided form: exact at both ends (w = 0 gives start, w = 1 gives end)."""
    return np.where(np.abs(weight) < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))


lerp_p = Primitive(
    "lerp", _lerp_forward,
    lambda xp, g, y, start, end, weight: g * (1 - weight),
    lambda xp, g, y, start, end, weight: g * weight,
    lambda xp, g, y, start, end, weight: g * (end - start),
    jvp=(lambda xp, ds, y, start, end, weight: ds * (1 - weight),
         lambda xp, de, y, start, end, weight: de * weight,
         lambda xp, dw, y, start, end, weight: dw * (end - start)))


def _xlogy_forward(x, z):
    with np.errstate(all="ignore"):
        out = np.where(np.isnan(z), np.nan, np.where(x == 0, 0.0, x * np.log(z)))
    return out.astype(np.result_type(x, z))


def _xlogy_times_x(xp, v, y, x, z):
    """v * dy/dx = v log z: the VJP (v = g) and the JVP's share (v = dx)."""
    undefined = (x == 0) & (z <= 0)  # x log z is 0 along x = 0 there: PyTorch gives 0, not log z
    return xp.where(undefined, 0.0, v * xp.log(xp.where(undefined, 1.0, z)))


xlogy_p = Primitive("xlogy", _xlogy_forward, _xlogy_times_x, lambda xp, g, y, x, z: g * x / z,
                    jvp=(_xlogy_times_x, lambda xp, dz, y, x, z: dz * x / z))



# --- the functions users call ---------------------------------------------------------------
def _floating(x: Tensor) -> Tensor:
    """Integer and bool tensors become float32 first, as PyTorch's float functions do."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    return x if x._data.dtype.kind == "f" else Tensor._wrap(x._data.astype(B.DEFAULT_FLOAT))


def _unary(prim: Primitive, doc: str, keep_integers: bool = False) -> Callable[[Tensor], Tensor]:
    def function(x: Tensor) -> Tensor:
        if keep_integers and isinstance(x, Tensor) and x._data.dtype.kind in "iub":
            return Tensor._wrap(prim.forward(x._data))
        return apply(prim, (_floating(x),), {})

    function.__name__ = prim.name
    function.__doc__ = doc
    return function


log10 = _unary(log10_p, "Base-10 logarithm, elementwise (torch.log10).")
log2 = _unary(log2_p, "Base-2 logarithm, elementwise (torch.log2).")
exp2 = _unary(exp2_p, "2 to the power x, elementwise (torch.exp2).")
expm1 = _unary(expm1_p, "e^x - 1, accurate for small x (torch.expm1).")
rsqrt = _unary(rsqrt_p, "1 / sqrt(x), elementwise (torch.rsqrt).")
reciprocal = _unary(reciprocal_p, "1 / x, elementwise; integers give float32 (torch.reciprocal).")
square = _unary(square_p, "x * x, elementwise; integers stay integers (torch.square).", keep_integers=True)
tan = _unary(tan_p, "Tangent, elementwise (torch.tan).")
asin = _unary(asin_p, "Arcsine, elementwise; NaN outside [-1, 1] (torch.asin, arcsin).")
acos = _unary(acos_p, "Arccosine, elementwise; NaN outside [-1, 1] (torch.acos, arccos).")
atan = _unary(atan_p, "Arctangent, elementwise (torch.atan, arctan).")
sinh = _unary(sinh_p, "Hyperbolic sine, elementwise (torch.sinh).")
cosh = _unary(cosh_p, "Hyperbolic cosine, elementwise (torch.cosh).")
asinh = _unary(asinh_p, "Inverse hyperbolic sine, elementwise (torch.asinh, arcsinh).")
acosh = _unary(acosh_p, "Inverse hyperbolic cosine, elementwise; NaN below 1 (torch.acosh, arccosh).")
atanh = _unary(atanh_p, "Inverse hyperbolic tangent, elementwise (torch.atanh, arctanh).")
frac = _unary(frac_p, "The fractional part x - trunc(x), sign kept: frac(-2.5) = -0.5 (torch.frac).")


def _binary(prim: Primitive, doc: str) -> Callable[[Operand, Operand], Tensor]:
    def function(a: Operand, b: Operand) -> Tensor:
        a, b = operands(a, b)
        return apply(prim, (_floating(a), _floating(b)), {})

    function.__name__ = prim.name
    function.__doc__ = doc
    return function


atan2 = _binary(atan2_p, "The angle of the point (b, a), in (-pi, pi], broadcasting (torch.atan2).")
hypot = _binary(hypot_p, "sqrt(a^2 + b^2) without overflow, broadcasting (torch.hypot).")
logaddexp = _binary(logaddexp_p, "log(e^a + e^b), computed stably (torch.logaddexp).")
logaddexp2 = _binary(logaddexp2_p, "log2(2^a + 2^b), computed stably (torch.logaddexp2).")
arctan2 = atan2


def xlogy(x: Operand, other: Operand) -> Tensor:
    """x * log(other), with 0 where x = 0 (even if other = 0); NaN where other is NaN (torch.xlogy)."""
    x, other = operands(x, other)
    return apply(xlogy_p, (_floating(x), _floating(other)), {})


def lerp(start: Tensor, end: Operand, weight: Operand) -> Tensor:
    """start + weight * (end - start); ``weight`` a number or a tensor, all broadcasting (torch.lerp)."""
    start, end = operands(start, end)
    if isinstance(weight, Tensor):
        weight = operands(start, weight)[1]
    else:
        weight = Tensor._wrap(np.asarray(weight, dtype=start.dtype))
    return apply(lerp_p, (start, end, weight), {})


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (default: the dtype's largest and
    smallest finite values), as torch.nan_to_num; the gradient passes where x is finite."""
    if x._data.dtype.kind != "f":
        return x
    return apply(nan_to_num_p, (x,), {"nan": nan, "posinf": posinf, "neginf": neginf})


def clamp_min(x: Tensor, min: Operand) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(x, min) elementwise (torch.clamp_min); ``min`` a number or a tensor."""
    return clamp(x, min=min)


def clamp_max(x: Tensor, max: Operand) -> Tensor:  # noqa: A002 - PyTorch's name
    """min(x, max) elementwise (torch.clamp_max); ``max`` a number or a tensor."""
    return clamp(x, max=max)


def addcmul(x: Tensor, tensor1: Operand, tensor2: Operand, *, value: Number = 1) -> Tensor:
    """x + value * tensor1 * tensor2 (torch.addcmul)."""
    return add(x, mul(mul(tensor1, tensor2), value) if value != 1 else mul(tensor1, tensor2))


def addcdiv(x: Tensor, tensor1: Operand, tensor2: Operand, *, value: Number = 1) -> Tensor:
    """x + value * tensor1 / tensor2 (torch.addcdiv)."""
    return add(x, mul(div(tensor1, tensor2), value) if value != 1 else div(tensor1, tensor2))


def deg2rad(x: Tensor) -> Tensor:
    return mul(_floating(x), math.pi / 180.0)


def rad2deg(x: Tensor) -> Tensor:
    return mul(_floating(x), 180.0 / math.pi)


# --- no gradient --------------------------------------------------------------------------------
def sgn(x: Tensor) -> Tensor:
    """The sign, -1, 0 or 1, and 0 for NaN (torch.sgn; for real tensors torch.sign); no gradient."""
    sign = np.sign(x._data)
    if sign.dtype.kind == "f":
        sign = np.where(np.isnan(sign), 0, sign).astype(sign.dtype)
    return Tensor._wrap(sign)


def signbit(x: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0)."""
    return Tensor._wrap(np.signbit(x._data))


def isinf(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isinf(x._data))


def isposinf(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isposinf(x._data))


def isneginf(x: Tensor) -> Tensor:
    return Tensor._wrap(np.isneginf(x._data))


def isreal(x: Tensor) -> Tensor:
    """All True: chainrule's tensors are real."""
    return Tensor._wrap(np.ones(x.shape, dtype=bool))


def isclose(a: Operand, b: Operand, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol * |b| elementwise, as a bool tensor (torch.isclose)."""
    a, b = operands(a, b)
    try:
        close = np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError:
        raise ShapeError(f"isclose: shapes {a.shape} and {b.shape} do not broadcast") from None
    return Tensor._wrap(np.asarray(close))


def isin(elements: Operand, test_elements: Operand | Sequence[Number], *, invert: bool = False) -> Tensor:
    """True where an element of ``elements`` occurs in ``test_elements`` (torch.isin)."""
    values = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    tests = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._wrap(np.isin(values, tests, invert=invert))


def logical_xor(a: Operand, b: Operand) -> Tensor:
    a, b = operands(a, b)
    return Tensor._wrap(np.asarray(np.logical_xor(a._data, b._data)))


def bitwise_xor(a: Operand, b: Operand) -> Tensor:
    """a ^ b for integer and bool tensors (torch.bitwise_xor)."""
    a, b = operands(a, b)
    return Tensor._wrap(np.asarray(np.bitwise_xor(a._data, b._data)))


def bitwise_not(x: Tensor) -> Tensor:
    """~x for integer and bool tensors (torch.bitwise_not)."""
    return Tensor._wrap(np.invert(x._data))
