"""How a tensor prints: PyTorch's layout, so a script's printed tensors read the same as under torch.

The rules (the print options are ``set_printoptions``'s: precision p, threshold, edgeitems e,
linewidth w):

summary     a tensor of more than ``threshold`` elements is summarised: along each dimension only
            the first and last e entries are shown, with ``...`` between them (a row ``...,`` for
            the dimensions above the last); the choices below look only at the entries shown.
floats      over the nonzero finite values v (zeros, inf and nan never decide anything):
            - integer mode when every v is whole: ``1.``, ``-3.``;
            - scientific (``1.0000e+05``, p decimals) when max|v| / min|v| > 1000, max|v| > 1e8
              or min|v| < 1e-4 -- ``sci_mode`` True/False forces it either way;
            - else fixed with p decimals.
width       every element is right-aligned to the widest formatted v (integer mode counts its
            dot), so columns line up: ``[[ 1.5000, -2.2500], [ 3.0000,  4.0000]]``.
lines       a 1-D row holds floor((w - indent) / (width + 2)) elements per line, at least one;
            nested rows are indented one column per level and separated by ``dim - 1`` newlines.
suffixes    ``dtype=...`` unless the dtype is the default float, int64 or bool; ``size=(...)`` for
            an empty tensor that is not 1-D (and whenever e is 0); then grad_fn or requires_grad.
            A suffix that would pass column w goes on a new line under the first element (measured
            as PyTorch spells it, ``dtype=torch.float64``, so the lines break where PyTorch's do).

float16 values are printed through float32, as PyTorch does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .backend import np
from .errors import ArgumentError


class PrintOptions:
    """The current print options (one set for the process, as in PyTorch)."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self) -> None:
        self.precision: int = 4
        self.threshold: float = 1000
        self.edgeitems: int = 3
        self.linewidth: int = 80
        self.sci_mode: bool | None = None


OPTIONS = PrintOptions()

_PROFILES: dict[str, tuple[int, float, int, int]] = {   # precision, threshold, edgeitems, linewidth
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """PyTorch's ``torch.set_printoptions``: how tensors print from now on.

    precision  decimals of a float (default 4)
    threshold  more elements than this are summarised with ``...`` (default 1000)
    edgeitems  entries kept at each end of a summarised dimension (default 3)
    linewidth  characters per line before a row wraps (default 80)
    profile    'default', 'short' (precision 2, edgeitems 2) or 'full' (never summarise); set
               first, then the options given beside it
    sci_mode   True/False forces scientific notation on/off; None (the default, and what every
               call without it restores) lets the values decide
    """
    if profile is not None:
        if profile not in _PROFILES:   # PyTorch ignores an unknown profile; a typo deserves a word
            raise ArgumentError(f"set_printoptions: unknown profile {profile!r}; use one of "
                                f"{sorted(_PROFILES)}")
        (OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems,
         OPTIONS.linewidth) = _PROFILES[profile]
    if precision is not None:
        OPTIONS.precision = precision
    if threshold is not None:
        OPTIONS.threshold = threshold
    if edgeitems is not None:
        OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        OPTIONS.linewidth = linewidth
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """One format for every element of a tensor, chosen from the values shown (module docstring)."""

    __slots__ = ("floating", "int_mode", "sci_mode", "width", "precision")

    def __init__(self, shown: np.ndarray) -> None:
        self.floating = shown.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        self.precision = OPTIONS.precision
        flat = shown.reshape(-1)
        if not self.floating:
            self.width = max([1, *(len(str(v)) for v in flat.tolist())])
            return
        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        magnitudes = np.abs(values)
        low, high = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if OPTIONS.sci_mode is None:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        else:
            self.sci_mode = OPTIONS.sci_mode
        if self.sci_mode:
            spec, extra = f".{self.precision}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1        # the dot after a whole number
        else:
            spec, extra = f".{self.precision}f", 0
        self.width = max(len(format(v, spec)) for v in values.tolist()) + extra

    def format(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = format(value, f"{self.width}.{self.precision}e")
        elif self.int_mode:
            text = format(value, ".0f")
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{self.precision}f")
        return text.rjust(self.width)


def _shown(data: np.ndarray) -> list[np.ndarray]:
    """The entries a summarised tensor shows, as flat pieces (their order does not matter)."""
    edge = OPTIONS.edgeitems
    if data.ndim <= 1:
        if data.ndim == 1 and data.shape[0] > 2 * edge:
            return [data[:edge], data[-edge:]]   # edge 0 keeps every entry, as in PyTorch
        return [data.reshape(-1)]
    if not edge:
        return []
    rows = range(data.shape[0])
    if data.shape[0] > 2 * edge:
        rows = [*range(edge), *range(data.shape[0] - edge, data.shape[0])]  # type: ignore[assignment]
    return [piece for row in rows for piece in _shown(data[row])]


def _row(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    per_line = max(1, math.floor((OPTIONS.linewidth - indent) / (formatter.width + 2)))
    edge = OPTIONS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and data.shape[0] > 2 * edge:
        items = ([formatter.format(v) for v in data[:edge].tolist()] + [" ..."]
                 + [formatter.format(v) for v in data[-edge:].tolist()])
    else:
        items = [formatter.format(v) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if data.ndim == 0:
        return formatter.format(data.item())
    if data.ndim == 1:
        return _row(data, indent, summarize, formatter)
    edge, count = OPTIONS.edgeitems, data.shape[0]
    if summarize and count > 2 * edge:
        parts = ([_nested(data[i], indent + 1, summarize, formatter) for i in range(edge)] + ["..."]
                 + [_nested(data[i], indent + 1, summarize, formatter) for i in range(count - edge, count)])
    else:
        parts = [_nested(data[i], indent + 1, summarize, formatter) for i in range(count)]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def values_text(data: np.ndarray, indent: int) -> str:
    """The values part of a tensor's repr (``[[ 1.5000, -2.2500], ...]``), for a given indent."""
    if data.size == 0:
        return "[]"
    if data.dtype == np.float16:
        data = data.astype(np.float32)
    summarize = data.size > OPTIONS.threshold
    shown = np.concatenate(_shown(data) or [data[:0].reshape(-1)]) if summarize else data
    return _nested(data, indent, summarize, _Formatter(shown))


def size_and_dtype(data: np.ndarray, default_float: np.dtype) -> list[str]:
    """The ``size=`` and ``dtype=`` suffixes, in PyTorch's order and cases (dtype as chainrule names it)."""
    suffixes = []
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if data.dtype != default_float:   # an empty tensor shows even int64 and bool
            suffixes.append(f"dtype={data.dtype}")
        return suffixes
    if not OPTIONS.edgeitems:
        suffixes.append(f"size={tuple(data.shape)}")
    if data.dtype not in (default_float, np.dtype(np.int64), np.dtype(np.bool_)):
        suffixes.append(f"dtype={data.dtype}")
    return suffixes


def with_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    """``text`` + ", suffix" for each, a suffix that would pass the line width on its own line.

    The line breaks fall where PyTorch's do: a ``dtype=`` suffix is measured as PyTorch spells it
    (``dtype=torch.float64``, 6 characters longer than chainrule's ``dtype=float64``), and the
    count starts from PyTorch's (two more than the last line's length).
    """
    out = [text]
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        length = len(suffix) + (len("torch.") if suffix.startswith("dtype=") else 0)
        if line_length + length + 2 > OPTIONS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            line_length = indent + length
        else:
            out.append(", " + suffix)
            line_length += length + 2
    out.append(")")
    return "".join(out)
