"""Grad mode and anomaly mode: per-thread switches the engine reads on every op.

    with cr.no_grad():        ops record no graph (inference, optimiser updates)
    with cr.enable_grad():    recording back on inside a no_grad block
    with cr.detect_anomaly(): the first op whose forward or backward makes NaN/Inf raises
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal, TypeVar

    from typing_extensions import Self

    _F = TypeVar("_F", bound=Callable[..., Any])


class _Mode(threading.local):
    grad_enabled = True
    anomaly = False
    dual_levels: tuple[Any, ...] = ()  # forward mode's active levels, outermost first (forward_ad.py)


_mode = _Mode()


def is_grad_enabled() -> bool:
    return _mode.grad_enabled


class _GradModeContext:
    """Context manager and decorator that sets grad mode; restores the old mode on exit.

    Used as ``with cr.no_grad():``, ``@cr.no_grad()`` or ``@cr.no_grad`` (no parentheses)."""

    enabled = True

    @overload
    def __new__(cls, function: _F, /) -> _F: ...  # type: ignore[misc]  # @no_grad without parentheses
    @overload
    def __new__(cls, *args: Any, **kwargs: Any) -> Self: ...

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs:
            return object.__new__(cls)(args[0])   # @no_grad without parentheses
        return object.__new__(cls)

    def __enter__(self) -> Self:
        self._previous = _mode.grad_enabled
        _mode.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _mode.grad_enabled = self._previous
        return False

    def __call__(self, function: _F) -> _F:
        fresh = self.clone

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with fresh():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature

    def clone(self) -> _GradModeContext:
        return self.__class__()


class no_grad(_GradModeContext):
    """Inside ``with cr.no_grad():`` no graph is recorded (inference, optimiser steps)."""

    enabled = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(False)``: a context (or decorator) with recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._previous = _mode.grad_enabled
        _mode.grad_enabled = self.enabled   # PyTorch's: calling it as a function switches at once

    def __enter__(self) -> Self:
        return self

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.enabled)


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode(mode=True)``: like ``no_grad`` here (no graph is recorded)."""

    def __init__(self, mode: bool = True) -> None:
        self.enabled = not mode

    def clone(self) -> inference_mode:
        return inference_mode(not self.enabled)


def is_inference_mode_enabled() -> bool:
    return not _mode.grad_enabled


class detect_anomaly:
    """Inside ``with cr.detect_anomaly():`` the first op whose forward or backward makes a
    NaN or Inf raises ``AnomalyError`` naming the op (and where its forward was called)."""

    def __enter__(self) -> Self:
        self._previous = _mode.anomaly
        _mode.anomaly = True
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _mode.anomaly = self._previous
        return False
