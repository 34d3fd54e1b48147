"""nn.utils.rnn: batches of sequences of different lengths, padded or packed (PyTorch's names).

    padded = pad_sequence([a, b, c])                  (T_max, B, *)  ((B, T_max, *) with batch_first)
    packed = pack_padded_sequence(padded, lengths, enforce_sorted=False)
    out, h_n = lstm(packed)                           each sequence runs to its own length
    out, lengths = pad_packed_sequence(out)           (T_max, B, *), padding_value where no step

A PackedSequence holds the steps of every sequence without the padding, time-major, with the
sequences sorted longest first:

    data         [step 0 of each sequence, step 1 of each that has one, ...]      (N, *)
    batch_sizes  batch_sizes[t] = how many sequences have a step t (non-increasing)
    sorted_indices[i]    the original batch position of the i-th longest sequence (None when the
                         batch came sorted with enforce_sorted=True); unsorted_indices undoes it

so the rows running at step t are always the first batch_sizes[t]. Every function here is built
from differentiable ops (a concatenation and one integer-array index), so gradients flow from
the padded or packed values back to the sequences, in time linear in their total length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ...backend import np
from ...errors import ShapeError
from ...ops.indexing import cat
from ...tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence


class PackedSequence(NamedTuple):
    """Sequences of different lengths without padding (see the module docstring)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequences with ``data.to(...)`` (batch sizes and indices stay int64)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self.to("float64")

    def float(self) -> PackedSequence:
        return self.to("float32")

    @property
    def is_cuda(self) -> bool:   # a property, as in PyTorch (a NamedTuple's class body holds only fields)
        return False

    def is_pinned(self) -> bool:
        return False


def _int_array(values: object, what: str) -> np.ndarray:
    array = np.asarray(values._data if isinstance(values, Tensor) else values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ShapeError(f"{what}: expected a 1-D sequence of integers, got {array.dtype} with shape "
                         f"{array.shape}")
    return array.astype(np.int64)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = _int_array(permutation, "invert_permutation")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return Tensor._wrap(inverse)


def _batch_sizes(lengths: np.ndarray, steps: int) -> np.ndarray:
    """batch_sizes[t] = how many of the (sorted) lengths exceed t."""
    return (lengths[None, :] > np.arange(steps)[:, None]).sum(axis=1).astype(np.int64)


def packed_positions(batch_sizes: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time step, sorted batch row) of every row of a PackedSequence's data, in order."""
    sizes = _int_array(batch_sizes, "PackedSequence.batch_sizes")
    times = np.repeat(np.arange(sizes.size), sizes)
    rows = np.arange(times.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return times, rows


def packed_to_padded_index(batch_sizes: Tensor | np.ndarray, batch: int) -> np.ndarray:
    """(T, batch) array: which data row holds step t of sorted row b, or -1 where it has none."""
    sizes = _int_array(batch_sizes, "PackedSequence.batch_sizes")
    index = np.full((sizes.size, batch), -1, dtype=np.int64)
    times, rows = packed_positions(sizes)
    index[times, rows] = np.arange(times.size)
    return index


def _rows_with_padding(data: Tensor, index: np.ndarray, padding_value: float) -> Tensor:
    """data[index] where index -1 picks a row full of ``padding_value`` (one cat, one index)."""
    filler = Tensor._wrap(np.full((1,) + data.shape[1:], padding_value, dtype=data.dtype))
    return cat([data, filler])[np.where(index < 0, data.shape[0], index)]


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shape (L_i, *) into (L_max, B, *) ((B, L_max, *) with batch_first),
    filling the missing steps with ``padding_value`` after each sequence (before, with
    padding_side='left')."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ShapeError("pad_sequence: needs at least one sequence")
    trailing = {tuple(s.shape[1:]) for s in sequences}
    if any(s.ndim == 0 for s in sequences) or len(trailing) != 1:
        shapes = ", ".join(str(tuple(s.shape)) for s in sequences)
        raise ShapeError(f"pad_sequence: every sequence must be (length, *) with the same trailing "
                         f"shape, got {shapes}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    longest = int(lengths.max())
    starts = np.cumsum(lengths) - lengths             # where each sequence begins in the joined rows
    steps = np.arange(longest)[:, None]               # (L_max, 1) against (B,)
    if padding_side == "left":
        steps = steps - (longest - lengths)[None, :]
    index = np.where((steps >= 0) & (steps < lengths), starts + steps, -1)
    padded = _rows_with_padding(cat(sequences), index, padding_value)
    return padded.transpose(0, 1) if batch_first else padded


def pack_padded_sequence(input: Tensor,  # noqa: A002 - PyTorch's name
                         lengths: Tensor | Sequence[int] | np.ndarray, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) whose sequence b has
    ``lengths[b]`` steps. With enforce_sorted, lengths must already be non-increasing."""
    lengths = _int_array(lengths, "pack_padded_sequence: lengths")
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2 or lengths.size != input.shape[batch_dim]:
        raise ShapeError(f"pack_padded_sequence: {lengths.size} lengths for an input of shape "
                         f"{tuple(input.shape)} (batch dim {batch_dim})")
    if lengths.size and lengths.min() <= 0:
        raise ShapeError("pack_padded_sequence: Length of all samples has to be greater than 0, but found "
                         f"an element in 'lengths' that is <= 0 (lengths {lengths.tolist()})")
    if lengths.size and lengths.max() > input.shape[1 - batch_dim]:
        raise ShapeError(f"pack_padded_sequence: a length of {int(lengths.max())} is longer than the "
                         f"{input.shape[1 - batch_dim]} steps of the input (shape {tuple(input.shape)})")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ShapeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                             "`enforce_sorted` is True (got " + str(lengths.tolist()) + "). You can pass "
                             "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                             "sidestep this requirement.")
        order = np.arange(lengths.size)
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor._wrap(order)
    batch_sizes = _batch_sizes(lengths[order], int(lengths.max()) if lengths.size else 0)
    times, rows = packed_positions(batch_sizes)
    position = (order[rows], times) if batch_first else (times, order[rows])
    return PackedSequence(input[position], Tensor._wrap(batch_sizes), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of pack_padded_sequence: (padded (T, B, *), lengths as int64), in the original
    batch order; ``total_length`` pads to that many steps."""
    data, batch_sizes, _, unsorted_indices = sequence
    sizes = _int_array(batch_sizes, "pad_packed_sequence: batch_sizes")
    steps = sizes.size if total_length is None else int(total_length)
    if steps < sizes.size:
        raise ShapeError(f"pad_packed_sequence: Expected total_length to be at least the length of the "
                         f"longest sequence in input, but got total_length={total_length} and max "
                         f"sequence length being {sizes.size}")
    batch = int(sizes[0]) if sizes.size else 0
    index = np.full((steps, batch), -1, dtype=np.int64)
    index[:sizes.size] = packed_to_padded_index(sizes, batch)
    lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)   # per sorted row
    if unsorted_indices is not None:
        back = _int_array(unsorted_indices, "pad_packed_sequence: unsorted_indices")
        index, lengths = index[:, back], lengths[back]
    if batch_first:
        index = index.T
    return _rows_with_padding(data, index, padding_value), Tensor._wrap(lengths.astype(np.int64))


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) directly (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | Sequence[int],
                   batch_first: bool = False) -> list[Tensor]:
    """The list of sequences (L_i, *) inside a padded batch."""
    counts = _int_array(lengths, "unpad_sequence: lengths")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :int(length)] for b, length in enumerate(counts)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences (L_i, *) inside a PackedSequence, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
