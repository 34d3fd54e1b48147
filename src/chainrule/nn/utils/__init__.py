"""Gradient utilities: clipping (the lesson's remedy for exploding gradients) and flattening;
``nn.utils.rnn`` (its own module, as in PyTorch) pads and packs batches of sequences.

    clip_grad_norm_:  total = (sum over every gradient entry |g|^p)^(1/p)   (max |g| for p = inf);
                      if total > max_norm, every gradient is scaled by max_norm / (total + 1e-6),
                      so the direction is kept and the length capped. Returns total (before clipping).
    clip_grad_value_: every gradient entry clamped to [-clip_value, clip_value].
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...backend import np
from ...errors import ChainruleError, ShapeError
from ...tensor import Tensor
from . import rnn  # noqa: F401 - nn.utils.rnn, PyTorch's module path

if TYPE_CHECKING:
    from collections.abc import Iterable


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _power_sum(grad: np.ndarray, p: float) -> float:
    """sum |g|^p over the entries of one gradient (in float64)."""
    flat = grad.reshape(-1).astype(np.float64, copy=False)
    if p == 2.0:
        return float(np.dot(flat, flat))
    return float(np.sum(np.abs(flat) ** p))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most ``max_norm``."""
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    grads = [p.grad._data for p in params]
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = sum(_power_sum(g, norm_type) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise ChainruleError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients of "
                             f"{len(params)} parameters is non-finite ({total}), so they cannot be clipped")
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    if coefficient < 1.0:
        for g in grads:
            g *= np.asarray(coefficient, dtype=g.dtype)
    return Tensor(np.array(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient entry to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (a copy, outside the graph)."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return Tensor(np.concatenate([p._data.reshape(-1) for p in parameters]))


def vector_to_parameters(vec: Tensor, parameters: Tensor | Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    data = vec._data if isinstance(vec, Tensor) else np.asarray(vec)
    needed = sum(p._data.size for p in parameters)
    if data.ndim != 1 or data.size != needed:
        raise ShapeError(f"vector_to_parameters: expected a 1-D vector of {needed} values, got shape "
                         f"{data.shape}")
    start = 0
    for p in parameters:
        p._data[...] = data[start:start + p._data.size].reshape(p.shape)
        p._version += 1
        start += p._data.size
