"""Schedules made of schedules: one after another (SequentialLR) or all at once (ChainedScheduler)."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from ...errors import ArgumentError
from ..optimizer import Optimizer
from .base import LRScheduler
from .plateau import ReduceLROnPlateau

if TYPE_CHECKING:
    from collections.abc import Sequence


def _check_members(owner: str, optimizer: Optimizer | None, schedulers: Sequence[LRScheduler]) -> None:
    if len(schedulers) < 1:
        raise ArgumentError(f"{owner} expects at least one scheduler, but got none")
    for number, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise ArgumentError(f"{owner}: the scheduler at index {number} has no `optimizer` attribute")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ArgumentError(f"{owner} does not support ReduceLROnPlateau (index {number}): its "
                                "step() needs the metric")
        if scheduler.optimizer is not optimizer:
            raise ArgumentError(f"{owner}: the scheduler {type(scheduler).__name__} at index {number} "
                                "belongs "
                             "to another optimizer; all must share one")


class _Composite(LRScheduler):
    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict:
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("_schedulers")
        super().load_state_dict(state_dict)
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)


class SequentialLR(_Composite):
    """Hand over from one schedule to the next at the given epochs::

        warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(optimizer, T_max=95)
        scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])

    At a milestone the next schedule starts from its epoch 0 (its closed form)."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        _check_members(type(self).__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ArgumentError(f"SequentialLR expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:   # undo what building the schedulers did
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            self._undo_initial_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_step(self, scheduler: LRScheduler) -> None:
        if hasattr(scheduler, "_schedulers"):
            for inner in scheduler._schedulers:
                self._undo_initial_step(inner)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]  # PyTorch's: no epoch argument
        self.last_epoch += 1
        number = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[number]
        if number > 0 and self._milestones[number - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedules together: each one's change multiplies into the same lr."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        optimizer = optimizer or (schedulers[0].optimizer if schedulers else None)
        _check_members(type(self).__name__, optimizer, schedulers)
        self._schedulers, self.optimizer = list(schedulers), optimizer  # type: ignore[assignment]  # checked
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]  # PyTorch's: no epoch argument
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()
