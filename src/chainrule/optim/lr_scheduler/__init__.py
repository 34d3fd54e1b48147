"""Learning-rate schedules: change each group's ``lr`` as the epochs go by (PyTorch's names).

Call ``scheduler.step()`` once per epoch (OneCycleLR: once per batch), after the optimizer's steps::

    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch()                # optimizer.step() inside
        scheduler.step()

    base.py        LRScheduler: the protocol (last_epoch, base_lrs, get_last_lr, state_dict)
    stepwise.py    LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ExponentialLR, ConstantLR,
                   LinearLR, PolynomialLR
    annealing.py   CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR
    plateau.py     ReduceLROnPlateau (driven by a metric: scheduler.step(val_loss))
    composite.py   SequentialLR, ChainedScheduler

Like PyTorch, each schedule updates the current lr from the previous one (the "chainable"
form), so its values agree with PyTorch's step by step, to the last bit where the arithmetic
is the same.
"""

from .annealing import CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR
from .base import LRScheduler, _LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .plateau import ReduceLROnPlateau
from .stepwise import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = ["LRScheduler", "_LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
           "ExponentialLR", "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR",
           "ChainedScheduler"]
