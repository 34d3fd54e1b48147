"""The affine map of a fully connected layer, and the embedding lookup, as single primitives.

x has any leading batch dims (..., in); W is (out, in); b is (out,). Let X be x flattened to
(M, in) and G the gradient g flattened to (M, out), M = the product of the batch dims.

    y = x W^T + b        dL/dx = g W                (..., out) @ (out, in) -> (..., in)
                         dL/dW = G^T X              (out, M) @ (M, in): summed over every batch position
                         dL/db = sum_M G            summed over every batch position

One primitive instead of matmul + transpose + add: one graph node, one GEMM per gradient.
Forward mode: y is bilinear in (x, W), so dy = linear(dx, W) + linear(x, dW) + db.

An embedding looks up rows: y[..., :] = W[i[...], :], i.e. y = onehot(i) @ W, so

    y = W[i]             dL/dW = onehot(i)^T g     (each row of g added into row i of dL/dW;
                                                   rows looked up twice get both; the row
                                                   padding_idx gets nothing)
                         dy = dW[i]                (0 where i = padding_idx: that row is held
                                                   constant, so it has no tangent either)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import DTypeError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor

if TYPE_CHECKING:
    from .._typing import IntIndices


def _linear_forward(x, weight, bias=None):
    out_features, in_features = weight.shape
    if x.ndim == 2:
        y = x @ weight.T
    else:  # one GEMM over all batch positions
        y = (x.reshape(-1, in_features) @ weight.T).reshape(x.shape[:-1] + (out_features,))
    if bias is not None:
        y += bias
    return y


def _linear_vjp_x(xp, g, y, x, weight, bias=None):
    return g @ weight


def _linear_vjp_weight(xp, g, y, x, weight, bias=None):
    out_features, in_features = weight.shape
    return xp.swapaxes(g.reshape(-1, out_features), 0, 1) @ x.reshape(-1, in_features)


def _linear_vjp_bias(xp, g, y, x, weight, bias):
    return g.reshape(-1, weight.shape[0]).sum(axis=0)


linear_p: Primitive = Primitive(
    "linear", _linear_forward, _linear_vjp_x, _linear_vjp_weight, _linear_vjp_bias,
    jvp=(lambda xp, dx, y, x, weight, bias=None: xp.call(linear_p, dx, weight),
         lambda xp, dweight, y, x, weight, bias=None: xp.call(linear_p, x, dweight),
         lambda xp, dbias, y, x, weight, bias: dbias))


def _embedding_vjp(xp, g, y, weight, indices, padding_idx):
    if padding_idx is not None:
        g = g * (indices != padding_idx)[..., None]
    rows = indices.reshape(-1)
    return xp.scatter_add(g.reshape(rows.shape[0], weight.shape[1]), weight.shape, (rows,))


def _embedding_jvp(xp, dweight, y, weight, indices, padding_idx):
    rows = dweight[indices]
    return rows if padding_idx is None else rows * (indices != padding_idx)[..., None]


embedding_p = Primitive(
    "embedding", lambda weight, indices, padding_idx: weight[indices],
    _embedding_vjp, jvp=(_embedding_jvp,))


# --- the functions users call ---------------------------------------------------------------
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ weight.T + bias, for x of shape (..., in_features) and weight (out_features, in_features)."""
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                         f"(expected last dim {weight.shape[1]})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape} "
                         f"(expected ({weight.shape[0]},))")
    if x.dtype != weight.dtype:
        raise DTypeError(f"linear: input is {x.dtype} (shape {x.shape}) but weight is {weight.dtype}; "
                         f"convert one, e.g. x.to({weight.dtype.name!r}) or model.to({x.dtype.name!r})")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return apply(linear_p, inputs, {})


def embedding(indices: IntIndices, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``indices`` of any shape."""
    index = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers (int64), got {index.dtype} with shape "
                         f"{index.shape}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
    count = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= count):
        bad = index[(index < 0) | (index >= count)].flat[0]
        raise ShapeError(f"embedding: index {int(bad)} is out of range for {count} embeddings "
                         f"(weight of shape {weight.shape}, indices of shape {index.shape})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += count
    return apply(embedding_p, (weight,), {"indices": index, "padding_idx": padding_idx})
