"""``chainrule.testing.assert_close``: PyTorch's ``torch.testing.assert_close`` for chainrule.

    assert_close(actual, expected)                  # tensors (or arrays), numbers, lists, dicts
    assert_close(actual, expected, rtol=1e-4, atol=1e-6, equal_nan=True, check_dtype=False)

Two values are close when, elementwise,

    |actual - expected| <= atol + rtol * |expected|     (an infinity is close only to itself,
                                                        and NaN to NaN only with equal_nan)

with ``rtol`` and ``atol`` from the dtype unless both are given (float16: 1e-3 / 1e-5, float32:
1.3e-6 / 1e-5, float64 and Python floats: 1e-7 / 1e-7, integers and bools: exact). Shapes must
be equal (no broadcasting) and, unless ``check_dtype=False``, so must dtypes. Sequences and
mappings are compared item by item; the failure names the item. A failure is an AssertionError
that says how many elements differ and where the largest differences are; ``msg`` replaces that
text (a string) or rewrites it (a callable taking it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .backend import np
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_TOLERANCES = {  # dtype -> (rtol, atol), as PyTorch's assert_close
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}
SCALARS = (bool, int, float, complex)


class _Mismatch(AssertionError):
    """A difference, with the path of the item it was found in (filled on the way out)."""

    def __init__(self, text: str, path: str = "") -> None:
        super().__init__(text)
        self.text, self.path = text, path


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close (see the module docstring)."""
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype)
    except _Mismatch as mismatch:
        text = mismatch.text
        if mismatch.path:
            text += f"\n\nThe failure occurred for item {mismatch.path}"
        if callable(msg):
            text = msg(text)
        elif msg is not None:
            text = str(msg)
        raise AssertionError(text) from None


def _is_tensor_like(value: Any) -> bool:
    return isinstance(value, (Tensor, np.ndarray))


def _compare(actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool,
             check_dtype: bool) -> None:
    if _is_tensor_like(actual) and _is_tensor_like(expected) and type(actual) is type(expected):
        return _compare_arrays(_array(actual), _array(expected), rtol, atol, equal_nan, check_dtype)
    if isinstance(actual, SCALARS) and isinstance(expected, SCALARS):
        return _compare_scalars(actual, expected, rtol, atol, equal_nan)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        return _compare_mappings(actual, expected, rtol, atol, equal_nan, check_dtype)
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _item(i, a, e, rtol, atol, equal_nan, check_dtype)
        return None
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} "
                    f"and {type(expected)}.")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _compare_mappings(actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool,
                      check_dtype: bool) -> None:
    if set(actual) != set(expected):
        missing = sorted((k for k in expected if k not in actual), key=repr)
        extra = sorted((k for k in actual if k not in expected), key=repr)
        raise _Mismatch("The keys of the mappings do not match:\n"
                        f"Missing keys in the actual mapping: {missing}\n"
                        f"Additional keys in the actual mapping: {extra}")
    for key in expected:
        _item(key, actual[key], expected[key], rtol, atol, equal_nan, check_dtype)


def _item(key: object, actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool,
          check_dtype: bool) -> None:
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype)
    except _Mismatch as mismatch:
        mismatch.path = f"[{key!r}]" + mismatch.path
        raise


def _array(value: Any) -> np.ndarray:
    return np.asarray(value._data if isinstance(value, Tensor) else value)


def _tolerances(dtype: Any, rtol: float | None, atol: float | None) -> tuple:
    if rtol is not None:
        return float(rtol), float(atol)  # type: ignore[arg-type]  # assert_close gives both or neither
    return DEFAULT_TOLERANCES.get(np.dtype(dtype), (0.0, 0.0))


def _is_exact(dtype: Any) -> bool:
    return np.dtype(dtype).kind in "biu"


def _compare_scalars(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                     equal_nan: bool) -> None:
    exact = all(isinstance(v, (bool, int)) for v in (actual, expected))
    rtol, atol = (0.0, 0.0) if exact and rtol is None else _tolerances(np.float64, rtol, atol)
    if not _close(np.asarray(actual), np.asarray(expected), rtol, atol, equal_nan).all():
        raise _scalar_mismatch(actual, expected, rtol, atol, exact and rtol == 0 and atol == 0)


def _scalar_mismatch(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                     exact: bool) -> _Mismatch:
    difference = abs(actual - expected)
    relative = difference / abs(expected) if expected != 0 else math.inf
    kind = "equal" if exact else "close"
    allowed = lambda limit: "" if kind == "equal" else f" (up to {limit} allowed)"
    return _Mismatch(f"Scalars are not {kind}!\n\nExpected {expected} but got {actual}.\n"
                    f"Absolute difference: {difference}{allowed(atol)}\n"
                    f"Relative difference: {relative}{allowed(rtol)}")


def _close(actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool) -> np.ndarray:
    if _is_exact(actual.dtype) and _is_exact(expected.dtype) and rtol == 0 and atol == 0:
        return actual == expected
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(a) & np.isfinite(e)   # an infinity is close only to itself
        close = (a == e) | (finite & (np.abs(a - e) <= atol + rtol * np.abs(e)))
    if equal_nan:
        close |= np.isnan(a) & np.isnan(e)
    return close


def _compare_arrays(actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool,
                    check_dtype: bool) -> None:
    if actual.shape != expected.shape:
        raise _Mismatch(f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise _Mismatch(f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    dtype = np.result_type(actual.dtype, expected.dtype)
    rtol, atol = _tolerances(dtype, rtol, atol)
    close = _close(actual, expected, rtol, atol, equal_nan)
    if close.all():
        return
    exact = _is_exact(dtype) and rtol == 0 and atol == 0
    if actual.ndim == 0:   # a 0-d tensor is reported as a number, as PyTorch does
        raise _scalar_mismatch(actual.item(), expected.item(), rtol, atol, exact)
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        difference = np.where(close, 0.0, np.abs(a - e))
        relative = np.where(close, 0.0, difference / np.abs(e))
    mismatched, total = int((~close).sum()), close.size
    kind = "equal" if exact else "close"
    lines = [f"Tensor-likes are not {kind}!", "",
             f"Mismatched elements: {mismatched} / {total} ({100 * mismatched / total:.1f}%)"]
    for name, values, limit in (("absolute", difference, atol), ("relative", relative, rtol)):
        where = _largest(values)
        value = values[where]
        shown = int(value) if exact and name == "absolute" else float(value)
        allowed = "" if exact else f" (up to {limit} allowed)"
        lines.append(f"Greatest {name} difference: {shown} at index {where}{allowed}")
    raise _Mismatch("\n".join(lines))


def _largest(values: np.ndarray) -> tuple:
    """The index of the largest value, a NaN counting as the largest."""
    nan = np.isnan(values)
    flat = int(np.argmax(nan)) if nan.any() else int(np.argmax(values))
    return tuple(int(i) for i in np.unravel_index(flat, values.shape))
