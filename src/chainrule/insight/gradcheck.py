"""gradcheck: compare the engine's gradients with central finite differences in float64.

For each input x and each entry i,   dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),
where L = sum(fn(*inputs) * v) for a fixed random v (so every output entry is exercised).
The analytic side is one backward pass of the same L. They must agree within
|analytic - numeric| <= atol + rtol * |numeric|.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import autograd
from ..errors import ChainruleError
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class GradcheckError(ChainruleError, AssertionError):
    """The analytic and numerical gradients disagree."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Any]:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _weighted_sum(outputs: Sequence[Tensor], weights: Sequence[np.ndarray]) -> float:
    return sum(float(np.sum(o._data.astype(np.float64) * w)) for o, w in zip(outputs, weights))


def gradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Any], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """True when ``fn``'s gradients match finite differences; otherwise raise naming the input,
    the entry and both values. Inputs that require grad should be float64 for a meaningful check."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise GradcheckError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for finite "
                                 "differences (tensor(..., dtype=cr.float64))")
    outputs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in outputs]
    differentiable = [(o, w) for o, w in zip(outputs, weights) if o.requires_grad]
    analytic = [np.zeros(inputs[i].shape) for i in checked]
    if differentiable:
        total = None
        for o, w in differentiable:
            term = (o * Tensor._wrap(w.astype(o.dtype))).sum()
            total = term if total is None else total + term
        grads = autograd.grad(total, [inputs[i] for i in checked], allow_unused=True)  # type: ignore[arg-type]
        analytic = [np.zeros(inputs[i].shape) if g is None else g._data.astype(np.float64)
                    for i, g in zip(checked, grads)]

    for position, i in enumerate(checked):
        data = inputs[i]._data
        flat = data.reshape(-1)  # a view: writing flat[k] moves the input itself
        numeric = np.zeros(data.size)
        for k in range(data.size):  # grad mode stays on: fn may itself take gradients
            original = flat[k]
            flat[k] = original + eps
            plus = _weighted_sum(_outputs(fn, inputs), weights)
            flat[k] = original - eps
            minus = _weighted_sum(_outputs(fn, inputs), weights)
            flat[k] = original
            numeric[k] = (plus - minus) / (2 * eps)
        expected = analytic[position].reshape(-1)
        bad = np.abs(expected - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            k = int(np.argmax(bad))
            index = np.unravel_index(k, data.shape) if data.ndim else ()
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {data.shape}) disagrees at index "
                f"{tuple(int(j) for j in index)}: "
                f"analytic {expected[k]!r} vs numerical {numeric[k]!r} "
                f"({int(bad.sum())} of {data.size} entries off; atol={atol}, rtol={rtol})")
    return True
