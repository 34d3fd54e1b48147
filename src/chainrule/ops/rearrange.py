"""Rearranging values: flipping, rolling, repeating, selecting and moving dims. No value changes,
so every gradient moves g back to where each value came from (adding where one was copied).

    y = flip(x, dims)        dL/dx = flip(g, dims)
    y = roll(x, s, dims)     dL/dx = roll(g, -s, dims)
    y = x.repeat(r0, r1..)   y = x tiled r_d times along each dim d (x of shape (s0, s1..))
                             dL/dx = g reshaped to (r0, s0, r1, s1, ..), summed over the r axes
All three are linear: forward mode moves the tangent like the values, dy = flip(dx, dims) ...

Built from those and from indexing (x[index], whose gradient adds g back at index) and gather:
    fliplr, flipud, rot90               flips and a transpose
    tile                                repeat, with missing leading sizes taken as 1
    narrow, select, unbind              x[.., start:start+length, ..], x[.., i, ..], every x[.., i, ..]
    index_select, take, repeat_interleave   x[.., index, ..] with an integer index (repeats add up)
    index_add                           x + alpha * source scattered at index along dim (the adjoint
                                        of index_select): dL/dx = g, dL/dsource = alpha * g[.., index, ..]
    masked_select                       x[mask] after broadcasting x and mask
    take_along_dim                      gather after broadcasting x and the indices
    movedim/moveaxis, swapdims          permute
    meshgrid                            reshape + expand (the expanded dims sum back)
    unflatten                           reshape
No gradient: nonzero / argwhere (indices).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..primitive import LINEAR, Primitive, apply
from ..tensor import Tensor
from .arguments import check_index_range, dim_of, dims_of, integer_array, sizes_arg
from .indexing import getitem, scatter_add
from .operands import as_tensor
from .shape import broadcast_to, flatten, gather, permute, reshape, transpose

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Literal

    from numpy.typing import NDArray

    from .._typing import Dims, IntIndices, Number, Size

flip_p = Primitive(
    "flip", lambda x, axes: np.flip(x, axes).copy(),
    lambda xp, g, y, x, axes: xp.flip(g, axes),
    jvp=LINEAR)

def _unroll(xp, g, y, x, shifts, axes):
    back = tuple(-s for s in shifts)
    return xp.roll(g, back if axes is not None else back[0], axes)


roll_p = Primitive(
    "roll", lambda x, shifts, axes: np.roll(x, shifts if axes is not None else shifts[0], axes), _unroll,
    jvp=LINEAR)


def _untile(xp, g, y, x, reps):
    inner = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    interleaved = tuple(size for pair in zip(reps, inner) for size in pair)
    summed = g.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(reps), 2)))
    return summed.reshape(x.shape)


repeat_p = Primitive(
    "repeat", lambda x, reps: np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps),
    _untile, jvp=LINEAR)


# --- the functions users call ---------------------------------------------------------------
def flip(x: Tensor, dims: Dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (an int or a tuple; torch.flip; a copy)."""
    axes = dims_of("flip", x, dims)
    if x.ndim == 0:
        return apply(flip_p, (x,), {"axes": ()})
    return apply(flip_p, (x,), {"axes": axes})


def fliplr(x: Tensor) -> Tensor:
    """Flip left-right: reverse dim 1 (needs at least 2 dims; torch.fliplr)."""
    if x.ndim < 2:
        raise ShapeError(f"fliplr: needs a tensor with at least 2 dims, got shape {tuple(x.shape)}")
    return flip(x, 1)


def flipud(x: Tensor) -> Tensor:
    """Flip up-down: reverse dim 0 (needs at least 1 dim; torch.flipud)."""
    if x.ndim < 1:
        raise ShapeError("flipud: needs a tensor with at least 1 dim, got a 0-d tensor")
    return flip(x, 0)


def rot90(x: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of ``dims``, from the first dim toward the second."""
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name two dims, got {dims}")
    first, second = dims_of("rot90", x, dims)
    k %= 4
    if k == 1:
        return transpose(flip(x, second), first, second)
    if k == 2:
        return flip(x, (first, second))
    if k == 3:
        return transpose(flip(x, first), first, second)
    return x


def roll(x: Tensor, shifts: int | Sequence[int], dims: Dims | None = None) -> Tensor:
    """Shift elements along ``dims`` by ``shifts``, wrapping around (torch.roll); without dims the
    tensor is rolled as if flattened."""
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: {len(shifts)} shifts need as many dims, got dims=None")
        return apply(roll_p, (x,), {"shifts": shifts, "axes": None})
    axes = (dim_of("roll", x, dims),) if isinstance(dims, (int, np.integer)) else tuple(
        dim_of("roll", x, d) for d in dims)
    if len(axes) != len(shifts):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    if x.ndim == 0:
        return x
    return apply(roll_p, (x,), {"shifts": shifts, "axes": axes})


def repeat(x: Tensor, *sizes: Size) -> Tensor:
    """Tile x ``sizes[d]`` times along each dim (Tensor.repeat; like np.tile, not repeat_interleave).
    ``sizes`` may have more entries than x has dims: x gets leading dims of size 1."""
    reps = sizes_arg("repeat", sizes)
    if len(reps) < x.ndim:
        raise ShapeError(f"repeat: {len(reps)} repeat counts {reps} cannot be fewer than the {x.ndim} dims "
                         f"of shape {tuple(x.shape)}")
    if any(r < 0 for r in reps):
        raise ShapeError(f"repeat: repeat counts must not be negative, got {reps}")
    return apply(repeat_p, (x,), {"reps": reps})


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Tile x ``dims[d]`` times along each dim; fewer entries than dims repeat the last dims (torch.tile)."""
    reps = sizes_arg("tile", (dims,))
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def _along(dim: int, index) -> tuple:
    return (slice(None),) * dim + (index,)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """x[.., start:start + length, ..] along ``dim`` (torch.narrow; a negative start counts from the end)."""
    dim = dim_of("narrow", x, dim)
    size = x.shape[dim]
    start = int(start) + size if int(start) < 0 else int(start)
    if start < 0 or length < 0 or start + length > size:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds size {size} of dim {dim} "
                         f"(shape {tuple(x.shape)})")
    return getitem(x, _along(dim, slice(start, start + int(length))))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """x[.., index, ..] along ``dim``, removing that dim (torch.select)."""
    dim = dim_of("select", x, dim)
    index = int(check_index_range("select", np.asarray(int(index)), x.shape[dim], x, dim))
    return getitem(x, _along(dim, index))


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """All slices along ``dim`` as a tuple, the dim removed (torch.unbind)."""
    dim = dim_of("unbind", x, dim)
    return tuple(getitem(x, _along(dim, i)) for i in range(x.shape[dim]))


def index_select(x: Tensor, dim: int, index: IntIndices) -> Tensor:
    """The entries ``index`` (1-D integers) along ``dim``; repeated indices add their gradients."""
    dim = dim_of("index_select", x, dim)
    index = integer_array("index_select", index)
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-D, got shape {index.shape}")
    size = x.shape[dim] if x.ndim else 1
    index = check_index_range("index_select", index.reshape(-1), size, x, dim)
    if x.ndim == 0:
        return getitem(reshape(x, 1), index).reshape(())
    return getitem(x, _along(dim, index))


def index_add(x: Tensor, dim: int, index: IntIndices, source: Tensor, *, alpha: Number = 1) -> Tensor:
    """x with ``alpha * source`` added at the entries ``index`` (1-D integers) along ``dim``;
    repeated indices add up (torch.index_add). ``source`` has x's shape with index's length at
    ``dim``."""
    dim = dim_of("index_add", x, dim)
    index = integer_array("index_add", index)
    if index.ndim > 1:
        raise ShapeError(f"index_add: index must be 1-D, got shape {index.shape}")
    index = check_index_range("index_add", index.reshape(-1), x.shape[dim], x, dim)
    source = as_tensor(source)
    expected = x.shape[:dim] + (index.size,) + x.shape[dim + 1:]
    if tuple(source.shape) != expected:
        raise ShapeError(f"index_add: source of shape {tuple(source.shape)} does not fit x of shape "
                         f"{tuple(x.shape)} with {index.size} indices along dim {dim} (expected {expected})")
    if alpha != 1:
        source = source * alpha
    return x + scatter_add(source, x.shape, _along(dim, index))


def take(x: Tensor, index: IntIndices) -> Tensor:
    """x flattened, indexed by ``index`` (any shape; the result has index's shape; torch.take)."""
    index = integer_array("take", index)
    index = check_index_range("take", index, x.numel(), x, 0)
    return getitem(flatten(x), index)


def repeat_interleave(x: Tensor, repeats: int | IntIndices | None = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``dim`` (x flattened when dim is None):
    [a, b] -> [a, a, b, b]. ``repeats`` is an int or one count per element. With one integer
    tensor alone, ``repeat_interleave(counts)`` gives arange(len(counts)) repeated by counts."""
    if repeats is None:
        counts = integer_array("repeat_interleave", x, "repeats")
        return Tensor._wrap(np.repeat(np.arange(counts.size), counts.reshape(-1)).astype(np.int64))
    if dim is None:
        x, dim = flatten(x), 0
    dim = dim_of("repeat_interleave", x, dim)
    size = x.shape[dim] if x.ndim else 1
    counts = integer_array("repeat_interleave", repeats, "repeats").reshape(-1)
    if counts.size not in (1, size):
        raise ShapeError(f"repeat_interleave: {counts.size} repeat counts for dim {dim} of size {size} "
                         f"(shape {tuple(x.shape)})")
    if (counts < 0).any():
        raise ShapeError(f"repeat_interleave: repeat counts must not be negative, got {counts.tolist()}")
    index = np.repeat(np.arange(size), counts if counts.size == size else int(counts[0]))
    if output_size is not None and index.size != output_size:
        raise ShapeError(f"repeat_interleave: output_size {output_size} does not match {index.size}")
    return index_select(x, dim, index)


def masked_select(x: Tensor, mask: Tensor | NDArray[Any]) -> Tensor:
    """The elements of x where ``mask`` is True, as a 1-D tensor (x and mask broadcast)."""
    mask = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if mask.dtype != np.bool_:
        raise ArgumentError(f"masked_select: mask must be a bool tensor, got {mask.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ShapeError(f"masked_select: input {tuple(x.shape)} and mask {mask.shape} do not broadcast"
                         ) from None
    return getitem(broadcast_to(x, shape), np.broadcast_to(mask, shape))


def take_along_dim(x: Tensor, indices: IntIndices, dim: int | None = None) -> Tensor:
    """x's values at ``indices`` along ``dim`` (torch.take_along_dim): gather, with x and indices
    broadcast in the other dims; without dim both are flattened."""
    indices = integer_array("take_along_dim", indices, "indices")
    if dim is None:
        return take(x, indices.reshape(-1))
    dim = dim_of("take_along_dim", x, dim)
    if indices.ndim != x.ndim:
        raise ShapeError(f"take_along_dim: indices of shape {indices.shape} need as many dims as input "
                         f"{tuple(x.shape)}")
    x_rest, index_rest = list(x.shape), list(indices.shape)
    x_rest[dim] = index_rest[dim] = 1
    try:
        common = list(np.broadcast_shapes(tuple(x_rest), tuple(index_rest)))
    except ValueError:
        raise ShapeError(f"take_along_dim: input {tuple(x.shape)} and indices {indices.shape} do not "
                         f"broadcast outside dim {dim}") from None
    x_shape, index_shape = list(common), list(common)
    x_shape[dim], index_shape[dim] = x.shape[dim], indices.shape[dim]
    indices = check_index_range("take_along_dim", np.broadcast_to(indices, index_shape), x.shape[dim], x, dim)
    return gather(broadcast_to(x, tuple(x_shape)), dim, indices)


@overload
def nonzero(x: Tensor, *, as_tuple: Literal[False] = False) -> Tensor: ...
@overload
def nonzero(x: Tensor, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...


def nonzero(x: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or with ``as_tuple=True`` one
    1-D tensor per dim (torch.nonzero; no gradient)."""
    data = as_tensor(x)._data
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(data)))
    return Tensor._wrap(np.argwhere(data).astype(np.int64))


def argwhere(x: Tensor) -> Tensor:
    """Indices of the nonzero elements as an (n, ndim) tensor (torch.argwhere)."""
    return nonzero(x)


def movedim(x: Tensor, source: Dims, destination: Dims) -> Tensor:
    """Move dims ``source`` to positions ``destination``, the others keeping their order (torch.movedim)."""
    source = dims_of("movedim", x, source)
    destination = dims_of("movedim", x, destination)
    if len(source) != len(destination):
        raise ShapeError(f"movedim: source {source} and destination {destination} differ in length")
    order = [d for d in range(x.ndim) if d not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return permute(x, order) if x.ndim else x


moveaxis = movedim
swapdims = transpose


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1; torch.unflatten)."""
    dim = dim_of("unflatten", x, dim)
    sizes = sizes_arg("unflatten", (sizes,))
    return reshape(x, tuple(x.shape[:dim]) + sizes + tuple(x.shape[dim + 1:]))


def meshgrid(*tensors: Tensor | Sequence[Tensor], indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (torch.meshgrid). ``indexing='ij'``: output i varies along
    dim i; ``'xy'``: the first two dims swapped (NumPy's and MATLAB's convention)."""
    given = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    grid_axes = [as_tensor(t) for t in given]
    for i, t in enumerate(grid_axes):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: tensor {i} must be 0-d or 1-D, got shape {tuple(t.shape)}")
    sizes = [t.numel() for t in grid_axes]
    positions = list(range(len(grid_axes)))
    if indexing == "xy" and len(grid_axes) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(grid_axes)
    for size, position in zip(sizes, positions):
        shape[position] = size
    grids = []
    for t, position in zip(grid_axes, positions):
        view = [1] * len(grid_axes)
        view[position] = -1
        grids.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return tuple(grids)
