"""Grad mode and anomaly mode: per-thread switches the engine reads on every op.

    with cr.no_grad():        ops record no graph (inference, optimiser updates)
    with cr.enable_grad():    recording back on inside a no_grad block
    with cr.detect_anomaly(): the first op whose forward or backward makes NaN/Inf raises
"""

from __future__ import annotations

import threading


class _Mode(threading.local):
    grad_enabled = True
    anomaly = False


_mode = _Mode()


def is_grad_enabled() -> bool:
    return _mode.grad_enabled


class _GradModeContext:
    """Context manager and decorator that sets grad mode; restores the old mode on exit."""

    enabled = True

    def __enter__(self):
        self._previous = _mode.grad_enabled
        _mode.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _mode.grad_enabled = self._previous
        return False

    def __call__(self, function):
        def wrapper(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)

        wrapper.__name__ = getattr(function, "__name__", "wrapper")
        wrapper.__doc__ = getattr(function, "__doc__", None)
        return wrapper


class no_grad(_GradModeContext):
    """Inside ``with cr.no_grad():`` no graph is recorded (inference, optimiser steps)."""

    enabled = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    def __init__(self, mode: bool):
        self.enabled = bool(mode)


class detect_anomaly:
    """Inside ``with cr.detect_anomaly():`` the first op whose forward or backward makes a
    NaN or Inf raises ``AnomalyError`` naming the op (and where its forward was called)."""

    def __enter__(self):
        self._previous = _mode.anomaly
        _mode.anomaly = True
        return self

    def __exit__(self, *exc):
        _mode.anomaly = self._previous
        return False
