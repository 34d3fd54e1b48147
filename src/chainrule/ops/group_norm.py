"""Group normalisation: the channels of each sample split into G groups, each group normalised
over its channels and positions, then every channel scaled and shifted (Wu & He, 2018).

For x (N, C, *), G groups of C/G channels, m = (C/G) * prod(*) values per (sample, group):

    mu = mean(x over the group),  var = mean((x - mu)^2)   (biased),  s = 1 / sqrt(var + eps)
    x_hat = (x - mu) s
    y = gamma_c x_hat + beta_c                               (gamma, beta: one per channel c)

    dL/dbeta_c  = sum over n and positions of g
    dL/dgamma_c = sum over n and positions of g x_hat
    dL/dx       = s (h - mean(h) - x_hat mean(h x_hat)),   h = g gamma,  means over the group

This is the normalisation primitive of ``normalization.py`` (batch and layer norm) applied to x
viewed as (N, G, C/G, positions) with the statistics over the last two axes, and gamma, beta
viewed as (1, G, C/G, 1): one graph node, the same VJP (differentiable again). G = 1 is layer
norm over (C, *) with per-channel affine; G = C is instance norm.
"""

from __future__ import annotations

from ..backend import np
from ..errors import DTypeError, ShapeError
from ..primitive import apply
from ..tensor import Tensor
from .normalization import _statistics, normalize_p
from .operands import as_tensor


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` channel groups of ``input`` (N, C, *) per sample."""
    op = "group_norm"
    x = as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C, *), got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating point, got {x.dtype} (shape {tuple(x.shape)})")
    batch, channels = x.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or channels % num_groups:
        raise ShapeError(f"{op}: the {channels} channels of input {tuple(x.shape)} cannot be split into "
                         f"{num_groups!r} groups")
    per_group = channels // num_groups
    affine_shape = (1, num_groups, per_group, 1)
    gamma = _affine(weight, affine_shape, channels, x, "weight", op)
    beta = _affine(bias, affine_shape, channels, x, "bias", op)
    grouped = x.reshape(batch, num_groups, per_group, -1)
    axes = (2, 3)
    mean, _, inv_std = _statistics(grouped, axes, eps)
    params = {"axes": axes, "eps": eps, "mean": mean._data, "inv_std": inv_std._data, "fixed": False}
    return apply(normalize_p, (grouped, gamma, beta), params).reshape(x.shape)


def _affine(value, shape, channels, like, what, op):
    """weight/bias (C,) viewed as (1, G, C/G, 1); ones/zeros when None."""
    if value is None:
        return Tensor._wrap(np.full(shape, 1.0 if what == "weight" else 0.0, dtype=like._data.dtype))
    value = as_tensor(value)
    if value.shape != (channels,):
        raise ShapeError(f"{op}: {what} must have shape ({channels},) for input {tuple(like.shape)}, got "
                         f"{tuple(value.shape)}")
    return value.reshape(shape)
