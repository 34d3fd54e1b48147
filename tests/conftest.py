"""Shared fixtures: a fixed seed for every test, and float64 helpers for gradient checks."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)
    np.random.seed(0)


def leaf(*shape, low=-1.0, high=1.0, positive=False, seed=None):
    """A float64 leaf tensor that requires grad, with values away from kinks when positive."""
    rng = np.random.default_rng(seed if seed is not None else abs(hash(shape)) % 2**32)
    data = rng.uniform(0.5, 1.5, shape) if positive else rng.uniform(low, high, shape)
    return cr.tensor(data, dtype=cr.float64, requires_grad=True)
