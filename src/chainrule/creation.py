"""Making tensors: from data, filled with a value, ranges, and shaped like another tensor.

Every function takes PyTorch's forms and keywords: sizes as ``zeros(2, 3)``, ``zeros((2, 3))``,
``zeros([2, 3])`` or ``zeros(size=(2, 3))``; ``dtype=``, ``device=`` (the CPU: see device.py),
``requires_grad=``, ``out=`` (the result is written into that tensor) and the layout keywords
scripts pass (``layout``, ``pin_memory``, ``memory_format``: accepted, nothing to do on NumPy).

dtype policy (PyTorch's): Python floats become the default float dtype (float32 unless
``cr.set_default_dtype`` says otherwise), ints int64, bools bool; an ndarray keeps its dtype.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import backend as B
from .backend import np
from .device import check_device
from .errors import ArgumentError, DTypeError, ShapeError
from .tensor import Tensor

if TYPE_CHECKING:
    from ._typing import ArrayLike, DeviceLike, DTypeLike, Number, Size


# --- shared argument handling -----------------------------------------------------------------
def sizes(size: tuple[Any, ...], keywords: dict[str, Any], op: str) -> tuple[int, ...]:
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    unexpected = set(keywords) - {"size"}
    if unexpected:
        raise ArgumentError(f"{op}() got an unexpected keyword argument {sorted(unexpected)[0]!r}")
    if "size" in keywords:
        if size:
            raise ArgumentError(f"{op}() got the size both as positional arguments and as size=")
        size = (keywords["size"],)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = []
    for s in size:
        whole = isinstance(s, (int, np.integer)) or (isinstance(s, Tensor) and s.ndim == 0
                                                     and s.dtype.kind in "iu")
        if isinstance(s, bool) or not whole:
            raise ArgumentError(f"{op}(): size must be whole numbers, got {size!r}")
        if int(s) < 0:
            raise ShapeError(f"{op}(): negative dimension {int(s)} in size {tuple(int(v) for v in size)}")
        shape.append(int(s))
    return tuple(shape)


def float_dtype(dtype: DTypeLike | None, op: str) -> np.dtype:
    """The dtype asked for, or the default float dtype."""
    if dtype is None:
        return B.DEFAULT_FLOAT
    try:
        return B.to_dtype(dtype)
    except TypeError as err:
        raise DTypeError(f"{op}(): {err}") from None


def finish(array: np.ndarray, op: str, *, out: Tensor | None = None, device: DeviceLike | None = None,
           requires_grad: bool = False) -> Tensor:
    """The new tensor (or ``out`` overwritten with the values), after checking the device."""
    check_device(device, f"{op}()")
    if out is not None:
        if not isinstance(out, Tensor):
            raise ArgumentError(f"{op}(): out must be a Tensor, got {type(out).__name__}")
        if out.requires_grad and out.is_leaf:
            raise DTypeError(f"{op}(): out= cannot be a leaf tensor that requires grad")
        out._data = array.astype(out.dtype, copy=False) if array.dtype != out.dtype else array
        out._version += 1
        return out
    result = Tensor._wrap(array)
    if requires_grad:
        result.requires_grad_(True)
    return result


# --- from data ------------------------------------------------------------------------------
def tensor(data: ArrayLike, dtype: DTypeLike | None = None, device: DeviceLike | None = None,
           requires_grad: bool = False, pin_memory: bool = False, name: str | None = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, an ndarray or a tensor).

    Floats become the default float dtype (float32), ints int64, bools bool; ``dtype`` overrides.
    ``name`` labels the tensor in ``explain()`` and graph drawings.
    """
    if isinstance(data, Tensor):
        data = data._data
    array = B.as_array(data, dtype)
    if array is data or (isinstance(data, np.ndarray) and np.shares_memory(array, data)):
        array = array.copy()
    result = finish(array, "tensor", device=device, requires_grad=requires_grad)
    result.name = name
    return result


def as_tensor(data: ArrayLike, dtype: DTypeLike | None = None, device: DeviceLike | None = None) -> Tensor:
    """Like ``tensor`` but shares memory with an ndarray or tensor of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or B.to_dtype(dtype) == data.dtype):
        check_device(device, "as_tensor()")
        return data
    return finish(B.as_array(data, dtype), "as_tensor", device=device)


def asarray(obj: ArrayLike, dtype: DTypeLike | None = None, device: DeviceLike | None = None,
            copy: bool | None = None, requires_grad: bool = False) -> Tensor:
    """PyTorch's ``torch.asarray``: shares memory unless ``copy=True`` or a conversion is needed."""
    result = (tensor if copy else as_tensor)(obj, dtype=dtype, device=device)
    return result.requires_grad_(True) if requires_grad else result


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise ArgumentError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


# --- filled with a value --------------------------------------------------------------------
def zeros(*size: Size, out: Tensor | None = None, dtype: DTypeLike | None = None, layout: object = None,
          device: DeviceLike | None = None, requires_grad: bool = False, pin_memory: bool = False,
          **size_keyword: Size) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``; float32 unless ``dtype`` says."""
    shape = sizes(size, size_keyword, "zeros")
    return finish(np.zeros(shape, float_dtype(dtype, "zeros")), "zeros", out=out, device=device,
                  requires_grad=requires_grad)


def ones(*size: Size, out: Tensor | None = None, dtype: DTypeLike | None = None, layout: object = None,
         device: DeviceLike | None = None, requires_grad: bool = False, pin_memory: bool = False,
         **size_keyword: Size) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``; float32 unless ``dtype`` says."""
    shape = sizes(size, size_keyword, "ones")
    return finish(np.ones(shape, float_dtype(dtype, "ones")), "ones", out=out, device=device,
                  requires_grad=requires_grad)


def empty(*size: Size, out: Tensor | None = None, dtype: DTypeLike | None = None, layout: object = None,
          device: DeviceLike | None = None, requires_grad: bool = False, pin_memory: bool = False,
          memory_format: object = None, **size_keyword: Size) -> Tensor:
    """An uninitialised tensor in PyTorch; here filled with zeros (a read is never garbage)."""
    shape = sizes(size, size_keyword, "empty")
    return finish(np.zeros(shape, float_dtype(dtype, "empty")), "empty", out=out, device=device,
                  requires_grad=requires_grad)


def full(size: Size, fill_value: Number | Tensor, *, out: Tensor | None = None,
         dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (float32 for a
    float, int64 for an int, bool for a bool) unless ``dtype`` says."""
    shape = sizes((size,), {}, "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    kind = B.as_array(fill_value).dtype if dtype is None else float_dtype(dtype, "full")
    return finish(np.full(shape, fill_value, kind), "full", out=out, device=device,
                  requires_grad=requires_grad)


def _like(t: Tensor, dtype: DTypeLike | None) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(t, Tensor):
        raise ArgumentError(f"expected a Tensor to copy the shape of, got {type(t).__name__}")
    return t.shape, t.dtype if dtype is None else float_dtype(dtype, "*_like")


def zeros_like(input: Tensor, *, dtype: DTypeLike | None = None, layout: object = None,  # noqa: A002
               device: DeviceLike | None = None, requires_grad: bool = False,
               memory_format: object = None) -> Tensor:
    shape, kind = _like(input, dtype)
    return finish(np.zeros(shape, kind), "zeros_like", device=device, requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype: DTypeLike | None = None, layout: object = None,  # noqa: A002
              device: DeviceLike | None = None, requires_grad: bool = False,
              memory_format: object = None) -> Tensor:
    shape, kind = _like(input, dtype)
    return finish(np.ones(shape, kind), "ones_like", device=device, requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype: DTypeLike | None = None, layout: object = None,  # noqa: A002
               device: DeviceLike | None = None, requires_grad: bool = False,
               memory_format: object = None) -> Tensor:
    shape, kind = _like(input, dtype)
    return finish(np.zeros(shape, kind), "empty_like", device=device, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value: Number | Tensor, *, dtype: DTypeLike | None = None,  # noqa: A002
              layout: object = None, device: DeviceLike | None = None, requires_grad: bool = False,
              memory_format: object = None) -> Tensor:
    shape, kind = _like(input, dtype)
    return finish(np.full(shape, fill_value, kind), "full_like", device=device, requires_grad=requires_grad)


# --- ranges and grids -----------------------------------------------------------------------
def _number(value: Number | Tensor | None) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def arange(start: Number | Tensor = 0, end: Number | Tensor | None = None, step: Number | Tensor = 1, *,
           out: Tensor | None = None, dtype: DTypeLike | None = None, layout: object = None,
           device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``: int64 when every argument is an int, else
    the default float dtype."""
    first, last, stride = (_number(v) for v in (start, end, step))   # Python numbers, and last may be None
    if last is None:
        first, last = 0, first
    if stride == 0:
        raise ArgumentError("arange(): step must be nonzero")
    if (last - first) * stride < 0:
        raise ArgumentError(f"arange(): upper bound and larger bound inconsistent with step sign "
                         f"(start={first}, end={last}, step={stride})")
    integral = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                   for v in (first, last, stride))
    kind = (B.int64 if integral else B.DEFAULT_FLOAT) if dtype is None else B.to_dtype(dtype)
    values = np.arange(first, last, stride, dtype=np.float64 if kind.kind == "f" else None)
    return finish(values.astype(kind), "arange", out=out, device=device, requires_grad=requires_grad)


def linspace(start: Number | Tensor, end: Number | Tensor, steps: int, *, out: Tensor | None = None,
             dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if int(steps) < 0:
        raise ArgumentError(f"linspace(): number of steps must be non-negative, got {steps}")
    values = np.linspace(_number(start), _number(end), int(steps))
    return finish(values.astype(float_dtype(dtype, "linspace")), "linspace", out=out, device=device,
                  requires_grad=requires_grad)


def logspace(start: Number | Tensor, end: Number | Tensor, steps: int, base: float = 10.0, *,
             out: Tensor | None = None, dtype: DTypeLike | None = None, layout: object = None,
             device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    values = np.logspace(_number(start), _number(end), int(steps), base=base)
    return finish(values.astype(float_dtype(dtype, "logspace")), "logspace", out=out, device=device,
                  requires_grad=requires_grad)


def eye(n: int, m: int | None = None, *, out: Tensor | None = None, dtype: DTypeLike | None = None,
        layout: object = None, device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (square when ``m`` is not given)."""
    return finish(np.eye(int(n), None if m is None else int(m), dtype=float_dtype(dtype, "eye")), "eye",
                  out=out, device=device, requires_grad=requires_grad)


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(t: Tensor) -> bool:
    return t.dtype.kind == "f"


def numel(t: Tensor) -> int:
    return t.numel()
