"""Devices on a CPU-only library: PyTorch's ``torch.device`` and ``device=`` keywords carry over.

chainrule computes with NumPy on the CPU. A PyTorch script still names devices everywhere::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # -> cpu here
    x = torch.zeros(3, device=device); model.to(device)

so ``device`` objects exist for any device type PyTorch knows, ``"cpu"`` works everywhere, and
putting data on any other device fails with one line that says chainrule runs on the CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ArgumentError, DeviceError

if TYPE_CHECKING:
    from ._typing import DeviceLike, DTypeLike

_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "hpu", "mtia", "privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    Only the CPU can hold chainrule tensors; other devices can be named (so scripts that test
    ``torch.cuda.is_available()`` first run unchanged) but not used.
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | int | device,  # noqa: A002 - PyTorch's names
                 index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index  # type: ignore[assignment]
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # type: ignore[assignment]  # torch.device(0): the first accelerator
        elif not isinstance(type, str):
            raise ArgumentError(f"device(): expected a string or a device, got {type!r}")
        if ":" in type:
            type, _, number = type.partition(":")
            if index is not None or not number.isdigit():
                raise ArgumentError(f"device(): invalid device string {type + ':' + number!r}")
            index = int(number)
        if type not in _KNOWN_TYPES:
            raise ArgumentError(f"device(): expected one of {', '.join(_KNOWN_TYPES)} device type, "
                             f"got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ArgumentError(f"device(): the index must be a non-negative integer, got {index!r}")
        self.type, self.index = type, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(where: DeviceLike | None, op: str = "this call") -> device:
    """The CPU for ``None``, "cpu", "cpu:0" or device("cpu"); one clear error for anything else."""
    if where is None or where is CPU or where == "cpu":
        return CPU
    try:
        named = device(where)
    except (TypeError, ValueError) as err:
        raise DeviceError(f"{op}: {err}") from None
    if named.type != "cpu" or named.index not in (None, 0):
        raise DeviceError(f"{op}: device {str(named)!r} is not available: chainrule runs on the CPU only "
                          "(use 'cpu', or pick the device with torch.cuda.is_available(), which is False "
                          "here)")
    return CPU


def dtype_of_to_call(args: tuple[Any, ...], dtype: DTypeLike | None, where: DeviceLike | None,
                     op: str) -> Any:
    """The dtype asked for by PyTorch's ``to(...)`` forms -- ``to(dtype)``, ``to(device)``,
    ``to(device, dtype)``, ``to(other_tensor)``, keywords -- after checking every device named."""
    for arg in args:
        if hasattr(arg, "_data") and hasattr(arg, "dtype"):   # another tensor: take its dtype
            dtype = arg.dtype
        elif isinstance(arg, device) or (isinstance(arg, str) and _names_a_device(arg)):
            check_device(arg, op)
        elif isinstance(arg, bool):   # the positional non_blocking / copy flags
            continue
        elif arg is not None:
            dtype = arg
    check_device(where, op)
    return dtype


def _names_a_device(text: str) -> bool:
    try:
        device(text)
    except ValueError:
        return False
    return True


class _DefaultDevice:
    current = CPU


def set_default_device(where: DeviceLike | None) -> None:
    """PyTorch's ``torch.set_default_device``: only the CPU (or None) is accepted here."""
    _DefaultDevice.current = check_device(where, "set_default_device")


def get_default_device() -> device:
    return _DefaultDevice.current
