"""Why a hand-derived gradient is wrong: the slips a learner makes, tried one by one.

The gradient checked here is the FIRST wrong one in backward order, so every gradient it is
built from (dL/du for each step u that reads the value v) is right. What went wrong is then v's
own share of the chain rule,

    dv = Σ over the steps u that read v of  du × ∂u/∂v       (upstream × local, paths added)

and the learner's value is compared with what each common slip would have given:

    shape        the gradient of a broadcast value not summed back (db1, dbngain, dbnmeani),
                 or the right matrix transposed (dW2 = dlogitsᵀ @ h)
    paths        a value read by two steps (bndiff by bnraw and bndiff2) with a path left out
    factor       the whole value, or one path, off by a constant: −1 (a sign), n or 1/n (the
                 1/n of a mean), (n−1)/n (Bessel's correction, as in the batch variance), 2 or
                 1/2 (the ½ of x^(−1/2), the 2 of x²)
    op slips     an element-wise op's derivative written from the wrong value: 1 − hpreact²
                 for tanh (it needs its output: 1 − h²), x for log (1/x), the value itself in a
                 product instead of the other factor, an exponent not lowered by one

Each match becomes one sentence naming the local derivative that went wrong; without a match
the step is still named (the upstream is right, so the local factor must be wrong).
"""

from __future__ import annotations

from itertools import combinations

from ..backend import np
from ..locale import N_, _
from .grad_steps import elementwise_chain, expressions, local_derivative
from .notation import TextNotation

MATCH_RTOL = 1e-3   # a slip "matches" when it gives the learner's value to this relative precision

# element-wise slips: op -> [(input index or None for any, how the wrong derivative is written,
# the wrong local derivative from (inputs, output, params))]
SLIPS = {
    "tanh": [(0, "1 − {0}²", lambda a, out, p: 1 - a[0] ** 2), (0, "1 − {out}", lambda a, out, p: 1 - out)],
    "sigmoid": [(0, "{0} × (1 − {0})", lambda a, out, p: a[0] * (1 - a[0]))],
    "log": [(0, "{0}", lambda a, out, p: a[0])],
    "exp": [(0, "{0}", lambda a, out, p: a[0])],
    "pow": [(0, "{exponent} × {0}^{exponent}", lambda a, out, p: p["exponent"] * a[0] ** p["exponent"])],
    "mul": [(0, "{0}", lambda a, out, p: a[0]), (1, "{1}", lambda a, out, p: a[1])],
    "div": [(0, "{1}", lambda a, out, p: a[1]), (1, "−{0} / {1}", lambda a, out, p: -a[0] / a[1])],
}
SLIP_REASONS = {
    "tanh": N_("tanh's derivative is written with its output: 1 − tanh(x)² = 1 − {out}²"),
    "sigmoid": N_("the sigmoid's derivative is written with its output: σ(x) × (1 − σ(x))"),
    "log": N_("the derivative of log(x) is 1/x"),
    "exp": N_("the derivative of exp(x) is exp(x) itself"),
    "pow": N_("the exponent comes down and drops by one: d(x^p)/dx = p × x^(p−1)"),
    "mul": N_("the local derivative of a product with respect to one factor is the OTHER factor"),
    "div": N_("d(a/b)/da = 1/b and d(a/b)/db = −a/b²"),
}


def close(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), float(np.max(np.abs(a), initial=0.0)))
    difference = float(np.max(np.abs(a - b), initial=0.0))
    return bool(np.all(np.isfinite(a))) and difference <= MATCH_RTOL * scale + 1e-30


def constant_factor(got, right):
    """k when ``got`` ≈ k × ``right`` for one number k (least squares), else None."""
    got, right = np.asarray(got, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if got.shape != right.shape or not np.any(right):
        return None
    k = float(np.vdot(got, right) / np.vdot(right, right))
    return k if k != 0 and close(got, k * right) else None


def factor_words(k: float, sizes: set) -> str:
    """What a wrong constant factor usually means."""
    def near(a, b):
        return abs(a - b) <= 1e-3 * max(abs(a), abs(b))
    if near(k, -1):
        return _("the sign is wrong: a minus sign is missing or one too many")
    for m in sorted(sizes, reverse=True):
        if m > 2 and near(k, m):
            return _("a factor 1/{m} is missing (an average over {m} values divides by {m})").format(m=m)
        if m > 2 and near(k, 1 / m):
            return _("there is a factor 1/{m} too many").format(m=m)
        if m > 2 and near(k, (m - 1) / m):
            return _("it divides by {m} where the forward pass divides by {m1} (as the batch variance "
                     "does, Bessel's correction)").format(m=m, m1=m - 1)
        if m > 2 and near(k, m / (m - 1)):
            return _("it divides by {m1} where the forward pass divides by {m}").format(m=m, m1=m - 1)
    if near(k, 2):
        return _("a factor 1/2 is missing (the ½ of x^(−1/2), whose derivative is −½ × x^(−3/2))")
    if near(k, 0.5):
        return _("a factor 2 is missing (the 2 of x², whose derivative is 2x)")
    return _("a constant factor is wrong")


def _sum_back(got, shape):
    """``got`` summed over the axes along which a value of ``shape`` was broadcast, or None."""
    got = np.asarray(got)
    if got.ndim < len(shape):
        return None
    extra = got.ndim - len(shape)
    if any(s != 1 and s != g for s, g in zip(shape, got.shape[extra:])):
        return None
    axes = tuple(range(extra)) + tuple(extra + i for i, s in enumerate(shape)
                                       if s == 1 and got.shape[extra + i] != 1)
    return np.sum(got, axis=axes).reshape(shape), axes


def diagnose(name: str, value, got, right, readers: list, upstream_words: dict) -> list:
    """Sentences saying what went wrong in ``d{name}``. ``readers``: [(step, its contribution to
    d{name})] for the steps that read the value; ``upstream_words``: {step name: whether the
    learner's upstream was right or taken from autograd}."""
    grad = "d" + name
    got = np.asarray(got, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    sizes = {int(s) for step, _c in readers for t in [step.output, value] for s in t.shape if s > 1}
    found = _shape_slip(grad, name, value, got, right) if got.shape != right.shape else \
        _paths_and_factors(grad, name, value, got, right, readers, sizes)
    if found is None and got.shape == right.shape and len(readers) == 1:
        found = _op_slip(grad, name, value, got, readers[0])
    lines = [found] if found else []
    lines.append(_where(grad, name, value, readers, upstream_words, found is None))
    return lines


def _shape_slip(grad, name, value, got, right):
    if got.shape == right.T.shape and close(got, right.T):
        return _("{grad} has shape {got}, the shape of {name} transposed: it is the right gradient, "
                 "transposed. A gradient has the shape of its value ({shape}); for C = A @ B, "
                 "dA = dC @ Bᵀ and dB = Aᵀ @ dC.").format(grad=grad, got=_shape(got.shape), name=name,
                                                          shape=_shape(right.shape))
    summed = _sum_back(got, right.shape)
    if summed is not None and close(summed[0], right):
        axes = summed[1]
        return _("{grad} has shape {got} but {name} has shape {shape}: in the forward pass {name} was "
                 "broadcast (copied along axis {axes}), and the gradient of a copied value is the sum over "
                 "its copies. Your values summed over axis {axes} are right: add .sum({axes}, "
                 "keepdim=True).").format(
                     grad=grad, got=_shape(got.shape), name=name, shape=_shape(right.shape),
                     axes=", ".join(str(a) for a in axes))
    return _("{grad} has shape {got} but {name} has shape {shape}: a gradient always has the shape of its "
             "value.").format(grad=grad, got=_shape(got.shape), name=name, shape=_shape(right.shape))


def _paths_and_factors(grad, name, value, got, right, readers, sizes):
    parts = [np.asarray(c, dtype=np.float64) for _step, c in readers]
    names = [step.name for step, _c in readers]
    if len(readers) > 1:
        for size in range(1, len(readers)):
            for kept in combinations(range(len(readers)), size):
                if close(got, sum(parts[i] for i in kept)):
                    missing = [names[i] for i in range(len(readers)) if i not in kept]
                    return _("{name} is read by {count} steps ({all}); where paths meet their "
                             "contributions add (the multivariable chain rule), but your {grad} holds only "
                             "the path through {have}: the path through {missing} is missing.").format(
                                 name=name, count=len(readers), all=", ".join(names), grad=grad,
                                 have=", ".join(names[i] for i in kept), missing=", ".join(missing))
    k = constant_factor(got, right)
    if k is not None:
        reader = readers[0][0] if len(readers) == 1 else None
        where = _local_words(reader, value, name) if reader else ""
        return _("Your {grad} is {k:.4g} × the right value: {why}{where}.").format(
            grad=grad, k=k, why=factor_words(k, sizes), where=where)
    for i, (step, _c) in enumerate(readers if len(readers) > 1 else ()):
        rest = right - parts[i]
        k = constant_factor(got - rest, parts[i])
        if k is not None:
            return _("The path through {path} is {k:.4g} × what it should be: {why}{where}.").format(
                path=step.name, k=k, why=factor_words(k, sizes), where=_local_words(step, value, name))
    return None


def _local_words(step, value, name) -> str:
    lhs, formula = local_derivative(step, value, name)
    if formula is None:
        return _(", in the local derivative {lhs}").format(lhs=lhs)
    return _(", in the local derivative {lhs} = {formula}").format(lhs=lhs, formula=formula)


def _op_slip(grad, name, value, got, reader):
    """An element-wise op on the way from the value to the step's output, differentiated from
    the wrong value: the learner's gradient equals the right one with that op's local derivative
    swapped for the slip's."""
    step, contribution = reader
    chain = elementwise_chain(step, value)
    if chain is None:
        return None
    written = expressions(step, TextNotation())
    for t, index, right_local in chain:
        op = t._prim.name
        for slot, wrong_text, wrong in SLIPS.get(op, ()):
            if slot is not None and slot != index:
                continue
            inputs = [s._data.astype(np.float64) for s in t._inputs()]
            with np.errstate(all="ignore"):
                wrong_local = np.broadcast_to(wrong(inputs, t._data.astype(np.float64), t._params), t.shape)
                if np.any(right_local == 0) and not np.allclose(wrong_local[right_local == 0], 0):
                    continue
                candidate = np.where(right_local == 0, 0.0, contribution * wrong_local / right_local)
            if not close(got, candidate):
                continue
            operands = [TextNotation().operand(written[id(s)]) for s in t._inputs()]
            output = step.name if t is step.output else written[id(t)]
            wrong_formula = wrong_text.format(*operands, out=TextNotation().operand(output),
                                              exponent=TextNotation().number(t._params.get("exponent", 0)))
            lhs, formula = local_derivative(step, value, name)
            return _("Your {grad} is what you get if the local derivative of {op} in {lhs} is written "
                     "{wrong}: {reason}. The right one: {lhs} = {formula}.").format(
                         grad=grad, op=op, lhs=lhs, wrong=wrong_formula,
                         reason=_(SLIP_REASONS[op]).format(out=TextNotation().operand(output)),
                         formula=formula)
    return None


def _where(grad, name, value, readers, upstream_words, unexplained: bool) -> str:
    """Which step it is: the upstream gradients were right, so the local factor is where it broke."""
    ups = ", ".join(f"d{step.name}{upstream_words[step.name]}" for step, _c in readers)
    locals_ = "; ".join(" = ".join(part for part in local_derivative(step, value, name) if part)
                        for step, _c in readers)
    if unexplained:
        return _("No common slip gives your value. The gradients upstream ({ups}) are right, so the local "
                 "derivative is where {grad} goes wrong: {locals}. Each path is upstream × local, and the "
                 "paths add.").format(ups=ups, grad=grad, locals=locals_)
    steps = ", ".join(f"{name} → {step.name}" for step, _c in readers)
    return _("The gradients upstream ({ups}) are right: the mistake is made in the step {steps}.").format(
        ups=ups, steps=steps)


def _shape(shape) -> str:
    return "×".join(str(s) for s in shape) or "()"
