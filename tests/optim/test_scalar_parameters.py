"""Every optimizer on 0-d, one-element and broadcast-used parameters follows PyTorch.

A 0-d parameter used twice in one step once got a NumPy scalar as its gradient; SGD kept that
immutable scalar as its momentum buffer, the in-place update never reached it, and a public
PyTorch tutorial (a dynamic network of scalar weights) diverged. These cases pin the fix.
"""

import numpy as np
import pytest
from tests.optim.test_optimizers import CASES, float64_scalar_state

import chainrule as cr
from chainrule import nn, optim

torch = pytest.importorskip("torch")

X = np.linspace(-1.0, 1.0, 7)
Y = np.sin(2.0 * X)
STEPS = 12


def _loss(lib, x, y, scalar, single, row):
    """scalar (0-d) used three times, single (shape (1,)) broadcast over x, row (1, 7) broadcast."""
    prediction = scalar * x + scalar * x * x + single * x ** 3 + (row * x).sum(0) + scalar
    residual = prediction - y
    return (residual * residual).mean()


def _initial():
    return [np.array(0.5), np.array([-0.3]), np.full((1, 7), 0.1)]


def _chainrule_run(make):
    params = [nn.Parameter(cr.tensor(v, dtype=cr.float64)) for v in _initial()]
    optimizer = make(optim, params)
    x, y = cr.tensor(X, dtype=cr.float64), cr.tensor(Y, dtype=cr.float64)
    history = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        _loss(cr, x, y, *params).backward()
        for p in params:
            assert type(p.grad.numpy()) is np.ndarray and p.grad.shape == p.shape
        optimizer.step()
        history.append(np.concatenate([p.numpy().ravel() for p in params]))
    return np.array(history), optimizer, params


def _torch_run(make):
    with float64_scalar_state():
        return _torch_steps(make)


def _torch_steps(make):
    params = [torch.nn.Parameter(torch.tensor(v, dtype=torch.float64)) for v in _initial()]
    optimizer = make(torch.optim, params)
    x, y = torch.tensor(X), torch.tensor(Y)
    history = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        _loss(torch, x, y, *params).backward()
        optimizer.step()
        history.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(history), optimizer


@pytest.mark.parametrize("name", sorted(n for n in CASES if n != "groups"))
def test_scalar_and_broadcast_parameters_follow_torch(name):
    ours, optimizer, params = _chainrule_run(CASES[name])
    theirs, torch_optimizer = _torch_run(CASES[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[0], ours[-1])
    for index, p in enumerate(params):  # every buffer kept is an array of the parameter's shape
        for key, value in optimizer.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.shape == p.shape and value.flags.writeable, (key, value)
                expected = torch_optimizer.state[torch_optimizer.param_groups[0]["params"][index]][key]
                np.testing.assert_allclose(value, expected.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


def test_issue_repro_momentum_buffer_of_a_scalar_used_twice():
    e = nn.Parameter(cr.tensor(1.0))
    x = cr.linspace(-1, 1, 5)
    (e * x + e * x * x).sum().backward()
    opt = optim.SGD([e], lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    assert opt.state[e]["momentum_buffer"].item() == pytest.approx(4.75)  # PyTorch's value


def test_zero_dim_results_are_arrays_that_in_place_updates_reach():
    x = cr.tensor(2.0)
    y = x * 3 + x          # 0-d math: NumPy would hand back a scalar
    assert type(y.numpy()) is np.ndarray
    y.add_(1)
    assert y.item() == 9.0
    s = cr.ones(3).sum()
    s.mul_(2)
    assert s.item() == 6.0
    assert type(cr.tensor([1, 2, 3])[1].numpy()) is np.ndarray
