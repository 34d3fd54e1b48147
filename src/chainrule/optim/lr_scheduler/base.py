"""LRScheduler: the base every epoch-driven schedule builds on (PyTorch's protocol).

Building a scheduler records each group's starting lr (``initial_lr``, kept in the group so a
resumed run finds it) and makes the first step, to epoch 0. Each ``step()`` then advances
``last_epoch`` by one and writes ``get_lr()`` into the groups. Most schedules are *chainable*:
they compute the new lr from the group's current one (lr * gamma, ...), so a change made by hand
(``optimizer.param_groups[0]['lr'] = x``) or by another scheduler carries on. ``step(epoch)``
(deprecated in PyTorch, still honoured) jumps to an epoch with the schedule's closed form.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ...errors import ArgumentError
from ..optimizer import Optimizer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different "
    "from None, the closed form is used instead of the new chainable form, where available.")


def check_optimizer(scheduler: object, optimizer: Optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise ArgumentError(f"{type(scheduler).__name__} needs a chainrule Optimizer, "
                        f"got {type(optimizer).__name__}")


def per_group(name: str, optimizer: Optimizer, value: Any) -> list:
    """One value per parameter group: a list or tuple as given (its length checked), else repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ArgumentError(f"{name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(value)} values, param_groups has {len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``, ``get_last_lr()``.

    Subclasses define ``_compute_lr()``, the lr of every group for epoch ``last_epoch``, and may
    define ``_closed_form_lr()``, the same computed from ``base_lrs`` alone (used by ``step(epoch)``).
    """

    _is_initial = False     # True during the first step, made by the constructor
    _in_step = False        # True while step() asks get_lr()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param_groups[{number}] has no 'initial_lr': resuming a schedule "
                                   f"(last_epoch={last_epoch}) needs the optimizer's saved state loaded "
                                   "first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    # --- what users call -------------------------------------------------------------------------
    def get_last_lr(self) -> list[float]:
        """The lr of each group as last set by this scheduler."""
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        """The lr of each group for the current epoch (use ``get_last_lr()`` to read it)."""
        if not self._in_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        return self._compute_lr()

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``) and write the new lr into every group."""
        if self._step_count == 1 and not self.optimizer._opt_called:
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in "
                          "the opposite order: `optimizer.step()` before `lr_scheduler.step()`, or the first "
                          "value of the learning rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def state_dict(self) -> dict:
        """Everything but the optimizer (numbers, strings and lists: safe for ``cr.save``)."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update({key: (list(value) if isinstance(value, (list, tuple)) else value)
                              for key, value in state_dict.items()})

    # --- for subclasses -----------------------------------------------------------------------
    def _compute_lr(self) -> list[float]:
        raise NotImplementedError

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _update_lr(self, epoch: int | None = None) -> None:
        self._in_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                values = self._closed_form_lr() if hasattr(self, "_closed_form_lr") else self.get_lr()
        finally:
            self._in_step = False
        self._write(values)

    def _write(self, values: Sequence[float]) -> None:
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise ArgumentError(f"{type(self).__name__}: {len(values)} learning rates for {len(groups)} "
                             "parameter groups (a group added after the scheduler was built has no schedule)")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


_LRScheduler = LRScheduler   # PyTorch's older name
