"""The case generator of the differential test against PyTorch (test_differential_fuzz.py).

A case is an op from the table below, applied to random inputs: shapes that include empty and
one-element dims and broadcasting pairs; magnitudes from subnormal (1e-310) to 1e308; now and
then the special values 0, -0, inf, -inf and NaN; float64 mostly, float32 sometimes. Each op is
written once as ``build(lib, F, *inputs, **params)`` and run under both libraries.
"""

from __future__ import annotations

import numpy as np

SHAPES = [(), (1,), (0,), (3,), (5,), (1, 1), (2, 1), (1, 3), (2, 3), (0, 3), (3, 0), (2, 3, 4), (1, 0, 2),
          (2, 1, 3)]
MAGNITUDES = [1.0, 1.0, 1.0, 1e-3, 1e3, 1e-30, 1e30, 1e-300, 1e-310, 1e300, 1e308]
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan]

UNARY_METHODS = ["exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "neg", "sin", "cos", "tan", "tanh",
                 "sigmoid", "relu", "sign", "floor", "ceil", "round", "trunc", "reciprocal", "square", "erf",
                 "atan", "asin", "acos", "sinh", "cosh", "log2", "log10", "frac", "exp2", "asinh", "atanh"]
UNARY_FUNCTIONAL = {
    "gelu": lambda F, x: F.gelu(x), "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=2.0, threshold=5.0),
    "elu": lambda F, x: F.elu(x, 1.5), "leaky_relu": lambda F, x: F.leaky_relu(x, 0.1),
    "silu": lambda F, x: F.silu(x),
}
POWERS = [0, 0.5, 1, 2, 3, -1, -0.5, 2.5, -2]
BINARY = {
    "add": lambda lib, a, b: a + b, "sub": lambda lib, a, b: a - b, "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b, "pow": lambda lib, a, b: a ** b,
    "maximum": lambda lib, a, b: lib.maximum(a, b), "minimum": lambda lib, a, b: lib.minimum(a, b),
    "atan2": lambda lib, a, b: lib.atan2(a, b), "remainder": lambda lib, a, b: lib.remainder(a, b),
    "fmod": lambda lib, a, b: lib.fmod(a, b), "hypot": lambda lib, a, b: lib.hypot(a, b),
    "logaddexp": lambda lib, a, b: lib.logaddexp(a, b), "where": lambda lib, a, b: lib.where(a > b, a, b),
}
REDUCTIONS = {
    "sum": lambda x, dim, keep: x.sum(dim=dim, keepdim=keep) if dim is not None else x.sum(),
    "mean": lambda x, dim, keep: x.mean(dim=dim, keepdim=keep) if dim is not None else x.mean(),
    "var": lambda x, dim, keep: x.var(dim=dim, keepdim=keep) if dim is not None else x.var(),
    "var_biased": lambda x, dim, keep: x.var(dim=dim, keepdim=keep, unbiased=False) if dim is not None
    else x.var(unbiased=False),
    "std": lambda x, dim, keep: x.std(dim=dim, keepdim=keep) if dim is not None else x.std(),
    "amax": lambda x, dim, keep: x.amax(dim=dim, keepdim=keep) if dim is not None else x.amax(),
    "amin": lambda x, dim, keep: x.amin(dim=dim, keepdim=keep) if dim is not None else x.amin(),
    "max_dim": lambda x, dim, keep: x.max(dim=dim, keepdim=keep)[0] if dim is not None else x.max(),
    "logsumexp": lambda x, dim, keep: x.logsumexp(dim=dim, keepdim=keep) if dim is not None
    else x.logsumexp(dim=tuple(range(x.ndim))),
    "softmax": lambda x, dim, keep: x.softmax(dim=dim if dim is not None else -1),
    "log_softmax": lambda x, dim, keep: x.log_softmax(dim=dim if dim is not None else -1),
    "prod": lambda x, dim, keep: x.prod(dim=dim, keepdim=keep) if dim is not None else x.prod(),
    "cumsum": lambda x, dim, keep: x.cumsum(dim=dim if dim is not None else 0),
    "norm": lambda x, dim, keep: x.norm(dim=dim, keepdim=keep) if dim is not None else x.norm(),
}
LOSSES = ["mse", "l1", "smooth_l1", "huber", "bce_logits", "cross_entropy", "cross_entropy_smooth", "nll",
          "kl_div"]


class Case:
    """One random case: an op, its inputs (float arrays) and params, described for a failure message."""

    def __init__(self, kind, name, arrays, params, dtype, extreme):
        self.kind, self.name, self.arrays, self.params, self.dtype, self.extreme = (
            kind, name, arrays, params, dtype, extreme)
        self.non_finite = any(not np.isfinite(a).all() for a in arrays)
        self.inexact_with_infinities = self.non_finite and name in ("var", "var_biased", "std")

    def __repr__(self):
        shapes = [a.shape for a in self.arrays]
        return f"<{self.kind} {self.name} shapes={shapes} params={self.params} dtype={self.dtype}>"

    def build(self, lib, F, leaves):
        kind, name, params = self.kind, self.name, self.params
        if kind == "unary":
            return getattr(leaves[0], name)()
        if kind == "functional":
            return UNARY_FUNCTIONAL[name](F, leaves[0])
        if kind == "power":
            return leaves[0] ** params["p"]
        if kind == "binary":
            return BINARY[name](lib, *leaves)
        if kind == "clamp":
            return leaves[0].clamp(params["low"], params["high"])
        if kind == "reduction":
            return REDUCTIONS[name](leaves[0], params["dim"], params["keep"])
        if kind == "matmul":
            return leaves[0] @ leaves[1]
        if kind == "loss":
            return _loss(lib, F, name, leaves, params)
        if kind == "index":
            return leaves[0][lib.tensor(params["index"])]
        if kind == "mask":
            return leaves[0][leaves[0] > params["threshold"]].sum()
        raise AssertionError(kind)


def _loss(lib, F, name, leaves, params):
    x, y = leaves
    reduction = params["reduction"]
    if name == "mse":
        return F.mse_loss(x, y, reduction=reduction)
    if name == "l1":
        return F.l1_loss(x, y, reduction=reduction)
    if name == "smooth_l1":
        return F.smooth_l1_loss(x, y, reduction=reduction, beta=params["beta"])
    if name == "huber":
        return F.huber_loss(x, y, reduction=reduction, delta=params["beta"])
    if name == "bce_logits":
        return F.binary_cross_entropy_with_logits(x, y.sigmoid(), reduction=reduction)
    if name == "kl_div":
        return F.kl_div(x.log_softmax(-1), y.softmax(-1), reduction=reduction)
    target = lib.tensor(params["target"])
    if name == "cross_entropy":
        return F.cross_entropy(x, target, reduction=reduction, ignore_index=params["ignore"])
    if name == "cross_entropy_smooth":
        return F.cross_entropy(x, target, reduction=reduction, label_smoothing=0.2)
    return F.nll_loss(x.log_softmax(1), target, reduction=reduction, ignore_index=params["ignore"])


def _values(rng, shape, allow_special=True):
    magnitude = MAGNITUDES[rng.integers(len(MAGNITUDES))]
    with np.errstate(over="ignore"):   # 1e308 times a normal draw may overflow: inf is a case too
        values = np.asarray(rng.standard_normal(shape) * magnitude)
    if allow_special and values.size and rng.random() < 0.3:
        spots = np.asarray(rng.random(shape) < 0.3)
        values[spots] = rng.choice(SPECIALS, size=int(spots.sum()))
    return values, magnitude


def _extreme(magnitude, dtype) -> bool:
    """Magnitudes whose squares or sums over- or underflow the dtype."""
    limit = 1e300 if dtype == "float64" else 1e15
    return magnitude >= limit or magnitude <= 1 / limit


def _broadcast_partner(rng, shape):
    """A shape that broadcasts with ``shape``: dims set to 1 or dropped from the left."""
    partner = [1 if rng.random() < 0.3 else n for n in shape]
    drop = rng.integers(0, len(partner) + 1) if rng.random() < 0.3 else 0
    return tuple(partner[drop:])


def make_case(rng) -> Case:
    dtype = "float32" if rng.random() < 0.2 else "float64"
    kind = rng.choice(["unary", "unary", "functional", "power", "binary", "binary", "clamp", "reduction",
                       "reduction", "matmul", "loss", "index", "mask"])
    shape = SHAPES[rng.integers(len(SHAPES))]
    x, magnitude = _values(rng, shape)
    huge = _extreme(magnitude, dtype)
    if kind == "unary":
        return Case(kind, str(rng.choice(UNARY_METHODS)), [x], {}, dtype, huge)
    if kind == "functional":
        return Case(kind, str(rng.choice(sorted(UNARY_FUNCTIONAL))), [x], {}, dtype, huge)
    if kind == "power":
        return Case(kind, "pow_scalar", [x], {"p": POWERS[rng.integers(len(POWERS))]}, dtype, huge)
    if kind == "binary":
        other, other_magnitude = _values(rng, _broadcast_partner(rng, shape))
        pair = [x, other] if rng.random() < 0.5 else [other, x]
        extreme = huge or _extreme(other_magnitude, dtype)
        return Case(kind, str(rng.choice(sorted(BINARY))), pair, {}, dtype, extreme)
    if kind == "clamp":
        low = float(rng.standard_normal()) if rng.random() < 0.8 else None
        high = None
        if rng.random() < 0.8:
            high = (low if low is not None else 0.0) + abs(float(rng.standard_normal()))
        if low is None and high is None:
            low = 0.0
        return Case(kind, "clamp", [x], {"low": low, "high": high}, dtype, huge)
    if kind == "reduction":
        ndim = len(shape)
        dim = int(rng.integers(-ndim, ndim)) if ndim and rng.random() < 0.7 else None
        params = {"dim": dim, "keep": bool(rng.random() < 0.5)}
        return Case(kind, str(rng.choice(sorted(REDUCTIONS))), [x], params,
                    dtype, huge)
    if kind == "matmul":
        n, k, m = (int(v) for v in rng.integers(0, 4, size=3))
        left = [(k,), (n, k), (2, n, k)][rng.integers(3)]
        right = [(k,), (k, m), (2, k, m), (1, k, m)][rng.integers(4)]
        a, mag_a = _values(rng, left, allow_special=False)
        b, mag_b = _values(rng, right, allow_special=False)
        return Case(kind, "matmul", [a, b], {}, dtype, _extreme(mag_a, dtype) or _extreme(mag_b, dtype))
    if kind == "loss":
        name = str(rng.choice(LOSSES))
        n, c = int(rng.integers(0, 4)), int(rng.integers(1, 5))
        logits, mag = _values(rng, (n, c))
        other, _ = _values(rng, (n, c))
        targets = rng.integers(0, c, size=n)
        if n and rng.random() < 0.3:
            targets[rng.random(n) < 0.5] = -100
        params = {"reduction": str(rng.choice(["mean", "sum", "none"])), "target": targets, "ignore": -100,
                  "beta": float(rng.choice([0.0, 0.5, 1.0, 2.0]))}
        if name == "kl_div" and params["reduction"] == "mean":
            params["reduction"] = "batchmean"
        return Case(kind, name, [logits, other], params, dtype, _extreme(mag, dtype))
    if kind == "index":
        size = max(shape[0], 1) if shape else 1
        x2 = x if shape and shape[0] else _values(rng, (3,) + tuple(shape[1:]))[0]
        count = int(rng.integers(0, 5))
        index = rng.integers(-x2.shape[0], x2.shape[0], size=count) if size else np.zeros(0, int)
        return Case(kind, "getitem", [x2], {"index": index}, dtype, huge)
    return Case(kind, "masked_sum", [x], {"threshold": float(rng.standard_normal()) * magnitude}, dtype, huge)
