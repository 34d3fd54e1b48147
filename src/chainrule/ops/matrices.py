"""Matrix-shaped ops: triangles, diagonals, and PyTorch's strict spellings of the matrix product.

    y = tril(x, k)       y = x on and below diagonal k, 0 above      dL/dx = tril(g, k)   dy = tril(dx, k)
    y = triu(x, k)       y = x on and above diagonal k, 0 below      dL/dx = triu(g, k)   dy = triu(dx, k)

Built from indexing (x[index]: its gradient adds g back at index) and from matmul:
    diagonal(x, offset, dim1, dim2)   x[..., i, i + offset] after moving dim1, dim2 last
    diag_embed(x, offset, dim1, dim2) zeros with x added on the diagonal (indexing's adjoint)
    diag(x, k)                        diagonal of a matrix, or the matrix with a vector on it
    trace(x)                          sum(diagonal(x))
    outer(a, b)                       a[:, None] * b[None, :] (the engine sums the broadcast back)
    kron(a, b)                        a[i, None, j, None] * b[None, k, None, l], then merged dims
    mm, bmm, mv, dot                  matmul, after checking the shapes PyTorch insists on
    addmm, addmv, baddbmm, addbmm     beta * input + alpha * (product)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .arguments import dim_of
from .arithmetic import add, matmul, mul
from .indexing import getitem, scatter_add
from .operands import operands
from .reductions import sum as sum_
from .shape import permute, reshape

if TYPE_CHECKING:
    from .._typing import Number

tril_p = Primitive(
    "tril", lambda x, diagonal: np.tril(x, diagonal),
    lambda xp, g, y, x, diagonal: xp.tril(g, diagonal),
    jvp=LINEAR)

triu_p = Primitive(
    "triu", lambda x, diagonal: np.triu(x, diagonal),
    lambda xp, g, y, x, diagonal: xp.triu(g, diagonal),
    jvp=LINEAR)


def _matrix(op: str, x: Tensor) -> None:
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs a tensor with at least 2 dims (a matrix or a batch of them), "
                         f"got shape {tuple(x.shape)}")


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims: entries with column - row <= diagonal kept, the
    rest zeroed (torch.tril; ``tril(ones(T, T))`` is the causal-attention mask)."""
    _matrix("tril", x)
    return apply(tril_p, (x,), {"diagonal": int(diagonal)})


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims: entries with column - row >= diagonal kept (torch.triu)."""
    _matrix("triu", x)
    return apply(triu_p, (x,), {"diagonal": int(diagonal)})


def _diagonal_index(rows: int, cols: int, offset: int) -> tuple:
    if offset >= 0:
        n = max(0, min(rows, cols - offset))
        return np.arange(n), np.arange(n) + offset
    n = max(0, min(rows + offset, cols))
    return np.arange(n) - offset, np.arange(n)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` (above the main one when positive) of the matrices spanned by dims
    ``dim1`` and ``dim2``, as the last dim of the result (torch.diagonal)."""
    _matrix("diagonal", x)
    dim1, dim2 = dim_of("diagonal", x, dim1), dim_of("diagonal", x, dim2)
    if dim1 == dim2:
        raise ShapeError(f"diagonal: dim1 and dim2 must differ, both are {dim1} (shape {tuple(x.shape)})")
    rest = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    moved = permute(x, rest + [dim1, dim2]) if rest + [dim1, dim2] != list(range(x.ndim)) else x
    rows, cols = _diagonal_index(x.shape[dim1], x.shape[dim2], int(offset))
    return getitem(moved, (Ellipsis, rows, cols))


_diagonal_of = diagonal  # diag's argument is called ``diagonal``, as in PyTorch


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with the last dim of x on their diagonal ``offset``, zeros elsewhere; the matrix
    dims sit at ``dim1``, ``dim2`` of the result (torch.diag_embed)."""
    if x.ndim < 1:
        raise ShapeError("diag_embed: needs a tensor with at least 1 dim, got a 0-d tensor")
    ndim = x.ndim + 1
    dim1, dim2 = dim_of("diag_embed", x, dim1, ndim), dim_of("diag_embed", x, dim2, ndim)
    if dim1 == dim2:
        raise ShapeError(f"diag_embed: dim1 and dim2 must differ, both are {dim1}")
    size = x.shape[-1] + abs(int(offset))
    rows, cols = _diagonal_index(size, size, int(offset))
    matrices = scatter_add(x, tuple(x.shape[:-1]) + (size, size), (Ellipsis, rows, cols))
    batch = iter(range(ndim - 2))
    order = [ndim - 2 if d == dim1 else ndim - 1 if d == dim2 else next(batch) for d in range(ndim)]
    return permute(matrices, order) if order != list(range(ndim)) else matrices


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """diag(vector) -> the square matrix with it on diagonal ``diagonal``; diag(matrix) -> that
    diagonal as a vector (torch.diag)."""
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    raise ShapeError(f"diag: needs a 1-D or 2-D tensor, got shape {tuple(x.shape)}")


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix (torch.trace)."""
    if x.ndim != 2:
        raise ShapeError(f"trace: needs a matrix (2-D tensor), got shape {tuple(x.shape)}")
    return sum_(diagonal(x))


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two vectors: y[i, j] = a[i] * b[j] (torch.outer, ger)."""
    a, b = operands(a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: needs two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return mul(reshape(a, -1, 1), reshape(b, 1, -1))


ger = outer


def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product: blocks a[i, j] * b (torch.kron); shapes of different rank are padded
    with leading 1s."""
    a, b = operands(a, b)
    ndim = max(a.ndim, b.ndim)
    a_shape = (1,) * (ndim - a.ndim) + tuple(a.shape)
    b_shape = (1,) * (ndim - b.ndim) + tuple(b.shape)
    spread_a = reshape(a, tuple(s for size in a_shape for s in (size, 1)))
    spread_b = reshape(b, tuple(s for size in b_shape for s in (1, size)))
    return reshape(mul(spread_a, spread_b), tuple(p * q for p, q in zip(a_shape, b_shape)))


def _product_shapes(op: str, a: Tensor, b: Tensor, ranks: tuple) -> None:
    if (a.ndim, b.ndim) != ranks:
        raise ShapeError(f"{op}: needs {ranks[0]}-D and {ranks[1]}-D tensors, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if inner_a != inner_b or (ranks == (3, 3) and a.shape[0] != b.shape[0]):
        raise ShapeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied")


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors, (n, k) @ (k, m) (torch.mm: no broadcasting)."""
    a, b = operands(a, b)
    _product_shapes("mm", a, b, (2, 2))
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product, (B, n, k) @ (B, k, m) (torch.bmm: no broadcasting)."""
    a, b = operands(a, b)
    _product_shapes("bmm", a, b, (3, 3))
    return matmul(a, b)


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix times vector, (n, k) @ (k,) (torch.mv)."""
    a, v = operands(a, v)
    _product_shapes("mv", a, v, (2, 1))
    return matmul(a, v)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of the same length (torch.dot, vdot for real tensors)."""
    a, b = operands(a, b)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ShapeError(f"dot: needs two 1-D tensors of the same length, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    return matmul(a, b)


vdot = dot


def _scaled_sum(op: str, x, product: Tensor, beta, alpha) -> Tensor:
    shape = tuple(getattr(x, "shape", ()))
    try:
        fits = np.broadcast_shapes(shape, tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: input of shape {shape} does not broadcast to the product's shape "
                         f"{tuple(product.shape)}")
    product = product if alpha == 1 else mul(product, alpha)
    if beta == 0:  # PyTorch ignores input then, NaN and inf included
        return product
    return add(x if beta == 1 else mul(x, beta), product)


def addmm(x: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * x + alpha * (mat1 @ mat2), x broadcasting to the product (torch.addmm)."""
    return _scaled_sum("addmm", x, mm(mat1, mat2), beta, alpha)


def addmv(x: Tensor, mat: Tensor, vec: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * x + alpha * (mat @ vec) (torch.addmv)."""
    return _scaled_sum("addmv", x, mv(mat, vec), beta, alpha)


def baddbmm(x: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * x + alpha * (batch1 @ batch2), batched (torch.baddbmm)."""
    return _scaled_sum("baddbmm", x, bmm(batch1, batch2), beta, alpha)


def addbmm(x: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * x + alpha * sum_b (batch1[b] @ batch2[b]) (torch.addbmm)."""
    return _scaled_sum("addbmm", x, sum_(bmm(batch1, batch2), 0), beta, alpha)
