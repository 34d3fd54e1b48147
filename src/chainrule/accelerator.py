"""``torch.accelerator`` on a CPU-only library: no accelerator is ever available."""

from __future__ import annotations


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    """None: chainrule has no accelerator (scripts then fall back to the CPU)."""
    return None


def device_count() -> int:
    return 0


def synchronize(device=None) -> None:
    """Nothing to wait for on the CPU."""
