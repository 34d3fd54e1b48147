"""Process-wide switches PyTorch scripts set in their first lines, answered by a NumPy library.

    torch.set_float32_matmul_precision("high")     kept; float32 matmuls are NumPy's, always full
    torch.use_deterministic_algorithms(True)       kept; chainrule's ops are deterministic anyway
    torch.set_num_threads(1)                       NumPy's BLAS thread pool, through threadpoolctl
                                                   when it is installed (else only remembered)

Each setting can be read back (get_float32_matmul_precision, are_deterministic_algorithms_enabled,
get_num_threads) as in PyTorch, and a bad value meets PyTorch's answer: a warning for an unknown
matmul precision (the setting stays), an error for a thread count below 1.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from .errors import ArgumentError

try:  # optional: NumPy's BLAS threads can only be changed at run time through it
    import threadpoolctl
except ImportError:  # pragma: no cover - then set_num_threads is remembered only
    threadpoolctl = None

MATMUL_PRECISIONS = ("highest", "high", "medium")
_settings: dict[str, Any] = {"matmul_precision": "highest", "deterministic": False, "warn_only": False,
             "threads": None, "interop_threads": None}


def set_float32_matmul_precision(precision: str) -> None:
    """Kept for get_float32_matmul_precision(); NumPy multiplies float32 at full precision."""
    if precision not in MATMUL_PRECISIONS:
        warnings.warn(f"set_float32_matmul_precision: {precision!r} is not one of "
                      f"{', '.join(map(repr, MATMUL_PRECISIONS))}; the call has no effect", stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _settings["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Kept; every chainrule op already gives the same result for the same inputs."""
    _settings["deterministic"], _settings["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _settings["warn_only"]


def _positive(name: str, count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ArgumentError(f"{name} expects a positive integer, got {count!r}")
    return count


def set_num_threads(count: int) -> None:
    """The threads of NumPy's BLAS (matrix products), as torch.set_num_threads sets PyTorch's."""
    _settings["threads"] = _positive("set_num_threads", count)
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=count, user_api="blas")


def get_num_threads() -> int:
    if _settings["threads"] is not None:
        return _settings["threads"]
    if threadpoolctl is not None:
        pools = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                 if pool["user_api"] == "blas"]
        if pools:
            return max(pools)
    return os.cpu_count() or 1


def set_num_interop_threads(count: int) -> None:
    """Kept: chainrule runs one op at a time."""
    _settings["interop_threads"] = _positive("set_num_interop_threads", count)


def get_num_interop_threads() -> int:
    return _settings["interop_threads"] or 1
