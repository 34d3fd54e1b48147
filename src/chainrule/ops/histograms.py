"""Counting: histograms, bincount, and the bin lookups bucketize / searchsorted. Their results
are counts or indices, so none of them has a gradient.

Bin rules, as PyTorch's:
    histc(x, bins, min, max)   equal bins over [min, max] (the data's range when min == max, widened
                               by 1 on each side if that is empty too); an element's bin is
                               trunc((x - min) * bins / (max - min)), and x = max counts in the last
                               bin; elements outside [min, max] and NaN are skipped.
    histogram(x, bins)         bin_edges = linspace(min, max, bins + 1), computed as torch.linspace
                               does (from both ends), or the given edges; x falls in bin i when
                               edges[i] <= x < edges[i+1] (the last bin is closed); a range that is
                               empty is widened by 0.5 on each side. density divides by
                               (total * bin width), so the histogram integrates to 1.
    bucketize(x, boundaries)   i with boundaries[i-1] < x <= boundaries[i]  (right=True: <= x <)
    searchsorted(seq, x)       i with seq[i-1] < x <= seq[i]  (right=True or side='right': <= x <)
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor
from .arguments import float_only, integer_array

if TYPE_CHECKING:
    from typing import Literal, NamedTuple

    from .._typing import IntIndices, Operand


if TYPE_CHECKING:  # the fields' types, for type checkers; at run time a plain namedtuple
    class HistogramResult(NamedTuple):
        """(hist, bin_edges) of histogram."""

        hist: Tensor
        bin_edges: Tensor
else:
    HistogramResult = namedtuple("HistogramResult", ["hist", "bin_edges"])


def _values(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def torch_linspace(start: float, end: float, steps: int, dtype) -> np.ndarray:
    """torch.linspace's values: the first half counted up from start, the second half down from
    end, each as one fused multiply-add in ``dtype`` (emulated in a wider type), as PyTorch's CPU
    kernel does. np.linspace counts up only and differs in the last bits of some edges."""
    dtype = np.dtype(dtype)
    if steps == 1:
        return np.array([start], dtype=dtype)
    wide = np.longdouble if dtype == np.float64 else np.float64
    start_t, end_t = dtype.type(start), dtype.type(end)
    step = wide((end_t - start_t) / dtype.type(steps - 1))
    i = np.arange(steps).astype(wide)
    up = (wide(start_t) + step * i).astype(dtype)
    down = (wide(end_t) - step * (steps - 1 - i)).astype(dtype)
    return np.where(np.arange(steps) < steps // 2, up, down)


def _range(op: str, data: np.ndarray, low, high, widen: float):
    if low == high:
        finite = data[~np.isnan(data)] if data.dtype.kind == "f" else data
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if low == high:
        low, high = low - widen, high + widen
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ArgumentError(f"{op}: range [{low}, {high}] is not finite")
    if low > high:
        raise ArgumentError(f"{op}: max ({high}) must be larger than min ({low})")
    return low, high


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts of x's elements in ``bins`` equal-width bins over [min, max] (the data's range
    when min == max) (torch.histc); same dtype as x."""
    float_only("histc", x)
    if int(bins) <= 0:
        raise ArgumentError(f"histc: bins must be positive, got {bins}")
    data = x._data.reshape(-1)
    low, high = _range("histc", data, float(min), float(max), 1.0)
    low_t, high_t = data.dtype.type(low), data.dtype.type(high)
    inside = (data >= low_t) & (data <= high_t)
    kept = data[inside]
    position = ((kept - low_t) * data.dtype.type(bins) / (high_t - low_t)).astype(np.int64)
    position = np.minimum(position, int(bins) - 1)
    return Tensor._wrap(np.bincount(position, minlength=int(bins)).astype(data.dtype))


def histogram(x: Tensor, bins: int | Tensor = 100, *, range: tuple[float, float] | None = None,  # noqa: A002
              weight: Tensor | None = None, density: bool = False) -> HistogramResult:
    """A histogram of x's elements as (hist, bin_edges) (torch.histogram): ``bins`` equal bins over
    ``range`` (default: the data's min and max) or the given increasing bin edges; ``weight``
    counts each element with its weight; ``density=True`` normalises to a density."""
    float_only("histogram", x)
    data = x._data.reshape(-1)
    if isinstance(bins, (int, np.integer)):
        if int(bins) <= 0:
            raise ArgumentError(f"histogram: bins must be positive, got {bins}")
        low, high = (float(range[0]), float(range[1])) if range is not None else (0.0, 0.0)
        low, high = _range("histogram", data, low, high, 0.5)
        edges = torch_linspace(low, high, int(bins) + 1, data.dtype)
    else:
        edges = _values(bins).astype(data.dtype)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
            raise ShapeError(f"histogram: bin edges must be a 1-D increasing tensor of at least 2 values, "
                             f"got shape {edges.shape}")
    weights = None
    if weight is not None:
        weights = _values(weight).astype(data.dtype).reshape(-1)
        if weights.size != data.size:
            raise ShapeError(f"histogram: weight of shape {np.shape(_values(weight))} must match input "
                             f"{tuple(x.shape)}")
    inside = (data >= edges[0]) & (data <= edges[-1])
    position = np.minimum(np.searchsorted(edges, data[inside], side="right") - 1, edges.size - 2)
    hist = np.bincount(position, weights=None if weights is None else weights[inside],
                       minlength=edges.size - 1).astype(data.dtype)
    if density:
        hist = hist / (hist.sum() * np.diff(edges))
    return HistogramResult(Tensor._wrap(hist.astype(data.dtype)), Tensor._wrap(edges))


def bincount(x: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, 2, ... occurs in a 1-D non-negative integer tensor (torch.bincount);
    with ``weights``, the sum of the weights of each value's occurrences."""
    data = integer_array("bincount", x, "input")
    if data.ndim != 1:
        raise ShapeError(f"bincount: input must be 1-D, got shape {data.shape}")
    if data.size and data.min() < 0:
        raise ArgumentError(f"bincount: input must be non-negative, got {int(data.min())}")
    if weights is None:
        return Tensor._wrap(np.bincount(data, minlength=int(minlength)).astype(np.int64))
    values = _values(weights)
    if values.shape != data.shape:
        raise ShapeError(f"bincount: weights of shape {values.shape} must match input {data.shape}")
    dtype = values.dtype if values.dtype.kind == "f" else np.float64
    return Tensor._wrap(np.bincount(data, weights=values, minlength=int(minlength)).astype(dtype))


def _index_dtype(out_int32: bool):
    return np.int32 if out_int32 else np.int64


def bucketize(x: Operand, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element: i with boundaries[i-1] < x <= boundaries[i] (right=True:
    boundaries[i-1] <= x < boundaries[i]) (torch.bucketize); ``boundaries`` 1-D, increasing."""
    edges = _values(boundaries)
    if edges.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape {edges.shape}")
    index = np.searchsorted(edges, _values(x), side="right" if right else "left")
    return Tensor._wrap(np.asarray(index, dtype=_index_dtype(out_int32)))


def searchsorted(sorted_sequence: Tensor, values: Operand, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: IntIndices | None = None) -> Tensor:
    """Where ``values`` would be inserted to keep ``sorted_sequence`` sorted (torch.searchsorted):
    leftmost place (rightmost with right=True or side='right'). An N-D sequence is searched
    row by row along its last dim, with one row of values per row of the sequence."""
    if side is not None:
        if side not in ("left", "right"):
            raise ArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ArgumentError("searchsorted: right=True contradicts side='left'")
        right = side == "right"
    sequence, targets = _values(sorted_sequence), _values(values)
    if sorter is not None:
        sequence = np.take_along_axis(sequence, integer_array("searchsorted", sorter, "sorter"), axis=-1)
    if sequence.dtype.kind not in "iuf" or targets.dtype.kind not in "iufb":
        raise DTypeError(f"searchsorted: needs numeric tensors, got {sequence.dtype} and {targets.dtype}")
    how: Literal["left", "right"] = "right" if right else "left"
    if sequence.ndim == 1:
        return Tensor._wrap(np.asarray(np.searchsorted(sequence, targets, side=how), _index_dtype(out_int32)))
    if targets.ndim != sequence.ndim or targets.shape[:-1] != sequence.shape[:-1]:
        raise ShapeError(f"searchsorted: values of shape {targets.shape} must match the leading dims of the "
                         f"sorted sequence {sequence.shape}")
    rows, found = sequence.reshape(-1, sequence.shape[-1]), targets.reshape(-1, targets.shape[-1])
    index = np.stack([np.searchsorted(r, v, side=how) for r, v in zip(rows, found)]) if rows.size else \
        np.zeros(found.shape, np.int64)
    return Tensor._wrap(index.reshape(targets.shape).astype(_index_dtype(out_int32)))
