"""Arithmetic: the binary operators, matmul, and the piecewise maximum/minimum/clamp/where.

Each row: the forward on arrays, then one VJP per input, ``vjp(xp, g, y, *inputs)`` where
g = dL/dy, then the JVP: one share of dy per input, ``jvp_i(xp, da, y, *inputs)`` where da is
the input's tangent. Broadcast inputs need no care here: the engine sums each gradient back to
its input's shape, and broadcasts each share of dy up to y's.

    y = a + b        dL/da = g                    dL/db = g                dy = da + db
    y = a - b        dL/da = g                    dL/db = -g               dy = da - db
    y = a * b        dL/da = g * b                dL/db = g * a            dy = da b + a db
    y = a / b        dL/da = g / b                dL/db = -g * a / b^2     dy = da / b - db a / b^2
    y = a ** b       dL/da = g * b * a^(b-1)      dL/db = g * y * ln(a)   (0 where a = 0, b >= 0)
                     (dL/da = 0 where b = 0, so 0 ** 0 has gradient 0, as PyTorch)
                     dy = da b a^(b-1) + db y ln(a)      (the same two factors, the same zeros)
    y = x ** p       dL/dx = g * p * x^(p-1)      dy = p x^(p-1) dx        (p a constant)
    y = -x           dL/dx = -g                   dy = -dx
    y = a @ b        dL/da = g @ b^T              dL/db = a^T @ g          (batched; 1-D handled)
                     dy = da @ b + a @ db
    y = max(a, b)    dL/da = g * [not a < b], halved where a = b (ties split, NaN passes: PyTorch)
                     dy = da [not a < b] + db [not b < a], each halved where a = b
    y = clamp(x)     dL/dx = g * [lo <= x <= hi]  dy = dx [lo <= x <= hi]
    y = where(c,a,b) dL/da = g * [c]              dL/db = g * [not c]      dy = where(c, da, db)
    y = a % b        dL/da = g                    dL/db = -g floor(a / b)  dy = da - db floor(a / b)
    fmod(a, b)       as %, with trunc for floor
    a // b, trunc(a / b): no derivative (an error both ways, as PyTorch)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..errors import ArgumentError, DTypeError, GraphError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .operands import constant, operands
from .unary import as_float

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import Operand

add_p = Primitive(
    "add", np.add,
    lambda xp, g, y, a, b: g,
    lambda xp, g, y, a, b: g,
    jvp=(lambda xp, da, y, a, b: da,
         lambda xp, db, y, a, b: db))

sub_p = Primitive(
    "sub", np.subtract,
    lambda xp, g, y, a, b: g,
    lambda xp, g, y, a, b: -g,
    jvp=(lambda xp, da, y, a, b: da,
         lambda xp, db, y, a, b: -db))

mul_p = Primitive(
    "mul", np.multiply,
    lambda xp, g, y, a, b: g * b,
    lambda xp, g, y, a, b: g * a,
    jvp=(lambda xp, da, y, a, b: da * b,
         lambda xp, db, y, a, b: a * db))

div_p = Primitive(
    "div", np.true_divide,
    lambda xp, g, y, a, b: g / b,
    lambda xp, g, y, a, b: -g * (a / b / b),   # (a / b) / b: b * b would underflow first
    jvp=(lambda xp, da, y, a, b: da / b,
         lambda xp, db, y, a, b: -db * (a / b / b)))


def _pow_vjp_exponent(xp, g, y, a, b):
    return g * xp.where((a == 0) & (b >= 0), 0.0, y * xp.log(a))


def _pow_vjp_base(xp, g, y, a, b):
    return xp.where(b == 0, 0.0, g * (b * a ** (b - 1)))   # 0 ** 0: gradient 0, as PyTorch


pow_p = Primitive(
    "pow", np.power, _pow_vjp_base, _pow_vjp_exponent,
    jvp=(lambda xp, da, y, a, b: xp.where(b == 0, 0.0, da * (b * a ** (b - 1))),
         lambda xp, db, y, a, b: db * xp.where((a == 0) & (b >= 0), 0.0, y * xp.log(a))))


def power(xp, x, exponent):
    """x ** exponent as PyTorch computes it: 0.5 and -0.5 through sqrt, small integers by
    multiplying (so sqrt(-inf) is NaN, as in PyTorch, where C's pow would say inf)."""
    if exponent == 0.5:
        return xp.sqrt(x)
    if exponent == -0.5:
        return 1 / xp.sqrt(x)
    if exponent == 1:
        return x
    if exponent == 2:
        return x * x
    if exponent == 3:
        return x * x * x
    if exponent == -1:
        return 1 / x
    if exponent == -2:
        return 1 / (x * x)
    return x ** exponent


def _pow_scalar_slope(xp, x, exponent):
    """d(x^p)/dx = p x^(p-1), or None for p = 1 (slope 1: nothing to multiply by)."""
    if exponent == 0:
        return 0.0
    if exponent == 1:
        return None
    return power(xp, x, exponent - 1) * exponent


def _pow_scalar_vjp(xp, g, y, x, exponent):
    slope = _pow_scalar_slope(xp, x, exponent)
    return g if slope is None else g * slope


def _pow_scalar_jvp(xp, dx, y, x, exponent):
    slope = _pow_scalar_slope(xp, x, exponent)
    return dx if slope is None else dx * slope


pow_scalar_p = Primitive(
    "pow", lambda x, exponent: power(np, x, exponent),
    _pow_scalar_vjp, jvp=(_pow_scalar_jvp,))

neg_p = Primitive(
    "neg", np.negative,
    lambda xp, g, y, x: -g,
    jvp=(lambda xp, dx, y, x: -dx,))


def _matmul_vjp_a(xp, g, y, a, b):
    if b.ndim == 1:
        return g * b if a.ndim == 1 else g[..., None] * b      # y_n = sum_k a_nk b_k
    if a.ndim == 1:
        return (g[..., None, :] @ xp.swapaxes(b, -1, -2))[..., 0, :]
    return g @ xp.swapaxes(b, -1, -2)


def _matmul_vjp_b(xp, g, y, a, b):
    if a.ndim == 1:
        return g * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return (xp.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return xp.swapaxes(a, -1, -2) @ g


matmul_p = Primitive("matmul", np.matmul, _matmul_vjp_a, _matmul_vjp_b,
                     jvp=(lambda xp, da, y, a, b: da @ b,
                          lambda xp, db, y, a, b: a @ db))

def _extreme_pair_vjp(loses):
    """g to the chosen operand, g/2 to each on a tie, 0 to the other; a NaN operand passes g on
    (PyTorch's rule: the gradient is blocked only where the operand is strictly the loser).
    The JVP's share of an operand is the same product with its tangent da in place of g."""
    return lambda xp, g, y, a, b: xp.where(loses(a, b), 0.0, xp.where(a == b, g * 0.5, g))


def _extreme_pair_jvp(loses):
    return lambda xp, da, y, a, b: xp.where(loses(a, b), 0.0, xp.where(a == b, da * 0.5, da))


maximum_p = Primitive("maximum", np.maximum, _extreme_pair_vjp(lambda a, b: a < b),
                      _extreme_pair_vjp(lambda a, b: b < a),
                      jvp=(_extreme_pair_jvp(lambda a, b: a < b), _extreme_pair_jvp(lambda a, b: b < a)))
minimum_p = Primitive("minimum", np.minimum, _extreme_pair_vjp(lambda a, b: a > b),
                      _extreme_pair_vjp(lambda a, b: b > a),
                      jvp=(_extreme_pair_jvp(lambda a, b: a > b), _extreme_pair_jvp(lambda a, b: b > a)))


def _clamp_forward(x, low, high):
    if low is not None and high is not None and low > high:
        raise ArgumentError(f"min ({low}) is greater than max ({high})")
    return np.clip(x, low, high)


def _within(xp, g, x, low, high):
    """g where lo <= x <= hi, else 0: clamp's VJP (g = dL/dy) and its JVP (g = dx) alike."""
    if low is not None:
        g = g * (x >= low)
    if high is not None:
        g = g * (x <= high)
    return g


def _clamp_vjp(xp, g, y, x, low, high):
    return _within(xp, g, x, low, high)


clamp_p = Primitive("clamp", _clamp_forward, _clamp_vjp,
                    jvp=(lambda xp, dx, y, x, low, high: _within(xp, dx, x, low, high),))

def _no_derivative(name):
    def vjp(xp, g, y, a, b):
        raise GraphError(f"the derivative of '{name}' is not implemented (as in PyTorch): the rounded "
                         "quotient is piecewise constant; use a / b for a gradient")
    return vjp


floor_divide_p = Primitive("floor_divide", np.floor_divide, _no_derivative("floor_divide"),
                           _no_derivative("floor_divide"),
                           jvp=(_no_derivative("floor_divide"), _no_derivative("floor_divide")))
trunc_divide_p = Primitive("trunc_divide", lambda a, b: np.trunc(np.true_divide(a, b)).astype(
    np.result_type(a, b)), _no_derivative("div(rounding_mode='trunc')"), _no_derivative("div"),
    jvp=(_no_derivative("div(rounding_mode='trunc')"), _no_derivative("div")))

remainder_p = Primitive(
    "remainder", np.remainder,
    lambda xp, g, y, a, b: g,
    lambda xp, g, y, a, b: -g * xp.floor_divide(a, b),
    jvp=(lambda xp, da, y, a, b: da,
         lambda xp, db, y, a, b: -db * xp.floor_divide(a, b)))

fmod_p = Primitive(
    "fmod", np.fmod,
    lambda xp, g, y, a, b: g,
    lambda xp, g, y, a, b: -g * xp.trunc(a / b),
    jvp=(lambda xp, da, y, a, b: da,
         lambda xp, db, y, a, b: -db * xp.trunc(a / b)))

where_p = Primitive(
    "where", lambda a, b, condition: np.where(condition, a, b),
    lambda xp, g, y, a, b, condition: xp.where(condition, g, 0.0),
    lambda xp, g, y, a, b, condition: xp.where(condition, 0.0, g),
    jvp=(lambda xp, da, y, a, b, condition: xp.where(condition, da, 0.0),
         lambda xp, db, y, a, b, condition: xp.where(condition, 0.0, db)))


# --- the functions users call ---------------------------------------------------------------
def add(a: Operand, b: Operand) -> Tensor:
    return apply(add_p, operands(a, b), {})


def sub(a: Operand, b: Operand) -> Tensor:
    return apply(sub_p, operands(a, b), {})


def mul(a: Operand, b: Operand) -> Tensor:
    return apply(mul_p, operands(a, b), {})


def div(a: Operand, b: Operand, *, rounding_mode: str | None = None) -> Tensor:
    """a / b; integers divide to the default float dtype. ``rounding_mode='floor'`` or ``'trunc'``
    rounds the quotient (no gradient through the rounding, as in PyTorch)."""
    a, b = operands(a, b)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return apply(trunc_divide_p, (a, b), {})
    if rounding_mode is not None:
        raise ArgumentError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"{rounding_mode!r}")
    if a._data.dtype.kind != "f" and b._data.dtype.kind != "f":  # true division of ints gives floats
        a = Tensor._wrap(a._data.astype(B.DEFAULT_FLOAT))
        b = Tensor._wrap(b._data.astype(B.DEFAULT_FLOAT))
    return apply(div_p, (a, b), {})


def floor_divide(a: Operand, b: Operand) -> Tensor:
    """a // b, rounded towards minus infinity (Python's rule, PyTorch's since 1.13)."""
    return apply(floor_divide_p, operands(a, b), {})


def remainder(a: Operand, b: Operand) -> Tensor:
    """a % b with the sign of b (Python's and PyTorch's rule): a - b * floor(a / b)."""
    return apply(remainder_p, operands(a, b), {})


def fmod(a: Operand, b: Operand) -> Tensor:
    """C's remainder, with the sign of a: a - b * trunc(a / b)."""
    return apply(fmod_p, operands(a, b), {})


def pow(base: Operand, exponent: Operand) -> Tensor:  # noqa: A001 - PyTorch's name
    """base ** exponent. An integer tensor to a float power gives the default float dtype; to a
    negative integer power it is an error (as in PyTorch)."""
    if isinstance(base, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if base._data.dtype.kind in "biu":
            if isinstance(exponent, float):
                base = as_float(base)
            elif exponent < 0:
                raise ArgumentError("pow: integers to negative integer powers are not allowed "
                                 f"(base {base.dtype} of shape {base.shape}, exponent {exponent})")
        return apply(pow_scalar_p, (base,), {"exponent": exponent})
    return apply(pow_p, operands(base, exponent), {})


def neg(x: Tensor) -> Tensor:
    return apply(neg_p, (x,), {})


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D operands are vectors, leading dims broadcast, and
    both operands must have the same dtype (an int matrix times a float one is an error)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise ArgumentError(f"matmul: both operands must be tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and "
                         f"{b.shape}")
    if a._data.dtype != b._data.dtype:
        raise DTypeError(f"matmul: expected m1 and m2 to have the same dtype, but got: {a.dtype} != "
                         f"{b.dtype} "
                         f"(shapes {_by(a.shape)} and {_by(b.shape)}; convert one with .to())")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ShapeError(f"matmul: mat1 and mat2 shapes cannot be multiplied ({_by(a.shape)} and "
                         f"{_by(b.shape)})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: the batch dimensions of {_by(a.shape)} and {_by(b.shape)} do not "
                         "broadcast") from None
    return apply(matmul_p, (a, b), {})


def _by(shape) -> str:
    return "x".join(str(s) for s in shape)


def maximum(a: Operand, b: Operand) -> Tensor:
    return apply(maximum_p, operands(a, b), {})


def minimum(a: Operand, b: Operand) -> Tensor:
    return apply(minimum_p, operands(a, b), {})


def clamp(x: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:  # noqa: A002 - PyTorch's names
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = maximum(x, min)
        return x if max is None else minimum(x, max)
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    if x._data.dtype.kind in "biu" and (isinstance(min, float) or isinstance(max, float)):
        x = as_float(x)   # an integer tensor clamped to float bounds is a float tensor (PyTorch)
    return apply(clamp_p, (x,), {"low": min, "high": max})


def where(condition: Tensor | NDArray[Any], a: Operand, b: Operand) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (condition carries no gradient)."""
    condition = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    a, b = operands(a, b)
    return apply(where_p, (a, b), {"condition": condition})


def masked_fill(x: Tensor, mask: Tensor | NDArray[Any], value: Operand) -> Tensor:
    return where(mask, constant(value, x), x)
