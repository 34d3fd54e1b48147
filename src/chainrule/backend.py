"""The backend seam: every array computation in chainrule goes through ``np`` from here.

Today the backend is NumPy. A GPU array library with NumPy's interface (CuPy) could be
dropped in by changing this one module; the op table never imports numpy directly.

This module also holds the dtype policy and the global random generator.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ArgumentError, DTypeError, NumberRangeError, ShapeError

if TYPE_CHECKING:
    from ._typing import ArrayLike, DeviceLike, DTypeLike
    from .tensor import Tensor

# --- memory: keep freed arrays' pages instead of faulting them in again every step -----------
_M_TOP_PAD = -2  # glibc mallopt parameter
_TOP_PAD_BYTES = 64 << 20


def _keep_freed_pages() -> bool:
    """A training step allocates and frees the same large temporaries again and again. By default
    glibc hands the freed memory at the top of the heap back to the kernel after each step, and
    the next step takes a page fault for every 4 KiB it touches again (measured here: ~730 faults,
    about 1 ms, per step of a small CNN — more than the arithmetic). Asking glibc to keep up to
    64 MiB of padding removes those faults. Linux/glibc only; set CHAINRULE_MALLOC_TUNING=0 to
    leave the allocator alone."""
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_TOP_PAD, _TOP_PAD_BYTES))
    except (OSError, AttributeError):
        return False


MALLOC_TUNED = _keep_freed_pages()

# --- floating-point warnings ----------------------------------------------------------------
# PyTorch computes log(0) = -inf or 0/0 = NaN silently (cr.detect_anomaly() finds where). NumPy
# warns instead; the warnings raised from chainrule's own modules are filtered here, once, so a
# user's own NumPy code keeps its warnings and chainrule's hot path pays nothing.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"chainrule(\.|$)",
                        message=r"(invalid value|divide by zero|overflow|underflow) encountered")

# --- dtypes ---------------------------------------------------------------------------------
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
DEFAULT_FLOAT = float32   # what Python floats become; set_default_dtype changes it

_DTYPE_NAMES: dict[str, np.dtype[Any]] = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "float16": float16, "half": float16, "int8": int8, "int16": int16, "short": int16,
    "int32": int32, "int": int32, "int64": int64, "long": int64, "uint8": uint8, "bool": bool_,
}
# torch.FloatTensor style names, as Tensor.type() spells them
_TENSOR_TYPE_NAMES: dict[np.dtype[Any], str] = {
    float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int8: "CharTensor",
    int16: "ShortTensor", int32: "IntTensor", int64: "LongTensor", uint8: "ByteTensor", bool_: "BoolTensor",
}


def to_dtype(dtype: DTypeLike) -> np.dtype:
    """Accept a numpy dtype, a Python type or a name ('float32', 'long', 'torch.float64',
    'torch.LongTensor')."""
    if isinstance(dtype, str):
        name = dtype[6:] if dtype.startswith("torch.") else dtype
        for kind, tensor_name in _TENSOR_TYPE_NAMES.items():
            if name == tensor_name:
                return kind
        try:
            return _DTYPE_NAMES[name]
        except KeyError:
            if name in ("cpu", "cuda", "mps") or name.startswith(("cpu:", "cuda:")):
                raise DTypeError(f"{dtype!r} is a device, not a dtype") from None
            raise DTypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPE_NAMES)}") from None
    if dtype is float:
        return DEFAULT_FLOAT
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"not a dtype: {dtype!r}") from None


def tensor_type_name(dtype: DTypeLike) -> str:
    """'torch.FloatTensor' for float32, as PyTorch's Tensor.type() answers."""
    return "torch." + _TENSOR_TYPE_NAMES.get(np.dtype(dtype), f"{np.dtype(dtype)}Tensor")


def set_default_dtype(dtype: DTypeLike) -> None:
    """The dtype Python floats and float factories (zeros, randn...) get: float32 (default) or float64."""
    global DEFAULT_FLOAT
    dtype = to_dtype(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"set_default_dtype: only floating-point types are supported as the default type, "
                        f"got {dtype}")
    DEFAULT_FLOAT = dtype


def get_default_dtype() -> np.dtype:
    return DEFAULT_FLOAT


def finfo(dtype: DTypeLike | None = None) -> np.finfo[Any]:
    """Machine limits of a float dtype (eps, max, tiny...), NumPy's finfo under PyTorch's name."""
    return np.finfo(DEFAULT_FLOAT if dtype is None else to_dtype(dtype))


def iinfo(dtype: DTypeLike) -> np.iinfo[Any]:
    """Limits of an integer dtype (min, max, bits)."""
    return np.iinfo(to_dtype(dtype))


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def as_array(data: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """Convert Python data to an ndarray with PyTorch's inference: floats -> the default float
    dtype, ints -> int64, bools -> bool; an ndarray keeps its dtype; ``dtype`` overrides.
    Ragged nested lists and integers beyond int64 are refused with one clear line."""
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(to_dtype(dtype), copy=False)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=None if dtype is None else to_dtype(dtype))
    try:
        array = np.asarray(data, dtype=None if dtype is None else to_dtype(dtype))
    except ValueError as err:
        raise ShapeError(_ragged_message(data) or f"cannot make a tensor from this data: {err}") from None
    except OverflowError:
        raise NumberRangeError(f"a number in the data does not fit {to_dtype(dtype)}") from None  # type: ignore[arg-type]
    if dtype is not None:
        return array
    if array.dtype.kind == "f":
        return array.astype(DEFAULT_FLOAT, copy=False)
    if array.dtype.kind == "i":
        return array.astype(int64, copy=False)
    if array.dtype.kind == "u" or array.dtype.kind == "O" and _all_ints(data):
        raise NumberRangeError("an integer in the data does not fit int64, PyTorch's integer type "
                            f"(largest {np.iinfo(np.int64).max}); use a float tensor for such numbers")
    if array.dtype.kind == "b":
        return array
    raise DTypeError(f"cannot make a tensor from data of type {type(data).__name__} "
                    f"(numpy dtype {array.dtype})")


def _all_ints(data: object) -> bool:
    if isinstance(data, (list, tuple)):
        return all(_all_ints(item) for item in data)
    return isinstance(data, int)


def _ragged_message(data: object) -> str | None:
    """PyTorch's wording for nested lists of unequal lengths: where the first mismatch is."""
    level: list[Any] = [data]
    dim = 0
    while level and all(isinstance(item, (list, tuple)) for item in level):
        lengths = {len(item) for item in level}
        if len(lengths) > 1:
            first = len(level[0])
            other = next(n for n in (len(item) for item in level) if n != first)
            return f"expected sequence of length {first} at dim {dim} (got {other})"
        level = [child for item in level for child in item]
        dim += 1
    if level and any(isinstance(item, (list, tuple)) for item in level):
        return f"expected a number, not a sequence, at dim {dim} (nested lists of mixed depth)"
    return None


# --- random numbers -------------------------------------------------------------------------
class Generator:
    """PyTorch's ``torch.Generator``: a stream of random numbers with its own seed.

        g = cr.Generator().manual_seed(2147483647)    # makemore's habit
        cr.randn(27, 27, generator=g)                  # the same numbers on every run

    Every random function takes ``generator=``; without it they draw from ``default_generator``
    (seeded by ``cr.manual_seed``). The draws come from NumPy's PCG64, so a seed always gives the
    same stream in chainrule, but not the same numbers as PyTorch's Mersenne Twister. As in
    PyTorch, a new Generator starts from the fixed seed 67280421310721, and the default one from
    a seed chosen at start-up.
    """

    DEFAULT_SEED = 67280421310721

    def __init__(self, device: DeviceLike = "cpu") -> None:
        if str(device) != "cpu":
            raise ArgumentError(f"Generator(device={device!r}): chainrule runs on the CPU only; use 'cpu'")
        self.manual_seed(self.DEFAULT_SEED)

    @property
    def device(self) -> str:
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns the generator (``Generator().manual_seed(n)``)."""
        seed = int(seed)
        if not -(2 ** 63) <= seed < 2 ** 64:
            raise ArgumentError(f"manual_seed: seed must be within [-2**63, 2**64), got {seed}")
        self._seed = seed % 2 ** 64
        self._numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int(np.random.SeedSequence().entropy) % 2 ** 63  # type: ignore[arg-type]  # an int when drawn
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> np.ndarray:
        """The stream's position as bytes (a uint8 array; ``cr.get_rng_state`` wraps it in a Tensor)."""
        state = self._numpy.bit_generator.state
        words = (state["state"]["state"], state["state"]["inc"])
        raw = b"".join(w.to_bytes(16, "little") for w in words)
        raw += bytes([state["has_uint32"]]) + int(state["uinteger"]).to_bytes(4, "little")
        raw += self._seed.to_bytes(8, "little")
        return np.frombuffer(raw, dtype=np.uint8).copy()

    def set_state(self, state: Tensor | np.ndarray) -> Generator:
        raw = np.asarray(getattr(state, "_data", state), dtype=np.uint8).tobytes()
        if len(raw) != 45:
            raise ArgumentError(f"set_state: expected the 45 bytes get_state() returns, got {len(raw)}")
        bit_generator = np.random.PCG64()
        bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:37], "little")}
        self._seed = int.from_bytes(raw[37:45], "little")
        self._numpy = np.random.Generator(bit_generator)
        return self

    def __repr__(self) -> str:
        return f"<chainrule.Generator seed={self._seed}>"


default_generator = Generator()
default_generator.seed()


def manual_seed(seed: int) -> Generator:
    """Seed chainrule's default generator (used by rand, randn, init, dropout, shuffling...);
    returns it, as PyTorch does."""
    return default_generator.manual_seed(seed)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (or behind the default one)."""
    if generator is None:
        return default_generator._numpy
    if not isinstance(generator, Generator):
        raise ArgumentError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")
    return generator._numpy


# --- special functions NumPy lacks ----------------------------------------------------------
ERF_STEPS_PER_UNIT, ERF_LIMIT, ERF_DEGREE = 64, 6.0, 7


def _erf_taylor_table(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """The centres c_j = j/64 on [0, 6] and, row k, erf's k-th Taylor coefficient at each:

        erf(c)          for k = 0 (math.erf)
        erf^(k)(c) / k! = 2/sqrt(pi) * exp(-c^2) * (-1)^(k-1) H_(k-1)(c) / k!    for k >= 1

    (the derivatives of exp(-x^2) are Hermite polynomials: H_0 = 1, H_1 = 2x,
    H_(n+1) = 2x H_n - 2n H_(n-1))."""
    centres = np.arange(int(ERF_LIMIT * ERF_STEPS_PER_UNIT) + 1) / ERF_STEPS_PER_UNIT
    rows = [np.array([math.erf(c) for c in centres])]
    gauss = 2.0 / math.sqrt(math.pi) * np.exp(-centres * centres)
    hermite_before, hermite = np.zeros_like(centres), np.ones_like(centres)      # H_(-1), H_0
    for k in range(1, degree + 1):
        rows.append(gauss * (-1) ** (k - 1) * hermite / math.factorial(k))
        hermite_before, hermite = hermite, 2 * centres * hermite - 2 * (k - 1) * hermite_before
    return centres, np.array(rows)


_ERF_CENTRES, _ERF_TAYLOR = _erf_taylor_table(ERF_DEGREE)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, within 2 ulp.

    erf is odd, so work with |x|; past 6 it is 1 to double precision (erfc(6) < 3e-17). On
    [0, 6], take the nearest centre c = j/64 and sum erf's Taylor series about it:

        erf(c + h) = sum_k erf^(k)(c) / k! * h^k,   |h| <= 1/128,   k = 0..7

    (coefficients tabulated once by _erf_taylor_table; Horner's rule, each step one table
    lookup, one multiply, one add). At c = 0 this is erf's Maclaurin series, so tiny x keep
    their relative accuracy. Float32 (and smaller) inputs need only k <= 4 (error < 4e-10).
    Computed in float64; the result has x's float dtype.
    """
    x = np.asarray(x)
    work = np.atleast_1d(x.astype(np.float64) if x.dtype != np.float64 else x)   # 0-d: still an array
    magnitude = np.minimum(np.abs(work), ERF_LIMIT)
    nan = np.isnan(magnitude)
    has_nan = bool(nan.any())
    if has_nan:
        magnitude = np.where(nan, 0.0, magnitude)
    centre = (magnitude * ERF_STEPS_PER_UNIT + 0.5).astype(np.intp)
    h = magnitude - _ERF_CENTRES.take(centre)
    degree = ERF_DEGREE if x.dtype == np.float64 or x.dtype.kind != "f" else 4
    result = _ERF_TAYLOR[degree].take(centre)
    for k in range(degree - 1, -1, -1):
        result *= h
        result += _ERF_TAYLOR[k].take(centre)
    result = np.copysign(result, work)
    if has_nan:
        result[nan] = np.nan
    result = result.reshape(x.shape)
    return result.astype(x.dtype, copy=False) if x.dtype.kind == "f" else result
