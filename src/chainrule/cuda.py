"""``torch.cuda`` on a CPU-only library: every question answers "no GPU", seeding is harmless.

Scripts written for PyTorch ask ``torch.cuda.is_available()`` and pick the CPU; they seed with
``torch.cuda.manual_seed_all(0)`` and time with ``torch.cuda.synchronize()``. Those all work and
do nothing; asking for a GPU's properties says that chainrule runs on the CPU only.
"""

from __future__ import annotations

from .errors import DeviceError


def is_available() -> bool:
    """False: chainrule computes on the CPU."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as PyTorch ignores it without a GPU (seed the CPU with cr.manual_seed)."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    """Accepted and ignored (no GPU generator)."""


def seed_all() -> None:
    """Accepted and ignored (no GPU generator)."""


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU work is finished when a call returns."""


def empty_cache() -> None:
    """Nothing to release: there is no GPU memory cache."""


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def reset_peak_memory_stats(device=None) -> None:
    """Nothing to reset."""


def _no_gpu(name: str):
    def unavailable(*args, **kwargs):
        raise DeviceError(f"torch.cuda.{name}: there is no GPU: chainrule runs on the CPU only "
                          "(torch.cuda.is_available() is False)")
    unavailable.__name__ = name
    return unavailable


current_device = _no_gpu("current_device")
get_device_name = _no_gpu("get_device_name")
get_device_properties = _no_gpu("get_device_properties")
set_device = _no_gpu("set_device")
get_device_capability = _no_gpu("get_device_capability")
