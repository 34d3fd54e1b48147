"""foreach=True / fused=True: the parameters in one flat buffer, the update a few whole-buffer calls,
and the values bitwise those of the per-parameter loop -- with or without cr.compile, with
gradients missing, state saved and restored, values replaced, groups with their own options."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.optim.fused import grad_view

OPTIMIZERS = {
    "SGD": lambda p, **kw: optim.SGD(p, lr=0.05, **kw),
    "SGD momentum nesterov wd": lambda p, **kw: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                           weight_decay=1e-2, **kw),
    "SGD dampening maximize": lambda p, **kw: optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3,
                                                         maximize=True, **kw),
    "Adam amsgrad": lambda p, **kw: optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-3, **kw),
    "AdamW": lambda p, **kw: optim.AdamW(p, lr=1e-2, **kw),
}


def _model(seed=0):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def _step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_fused_steps_are_bitwise_the_per_parameter_steps(name, compiled):
    plain, flat = _model(), _model()
    make = OPTIMIZERS[name]
    opt_plain, opt_flat = make(plain.parameters()), make(flat.parameters(), fused=True)
    runner = cr.compile(flat) if compiled else flat
    x, y = cr.randn(6, 4), cr.randn(6, 3)
    for _ in range(6):
        assert _step(plain, opt_plain, x, y) == _step(runner, opt_flat, x, y)
    for a, b in zip(plain.parameters(), flat.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())
    saved, saved_flat = opt_plain.state_dict(), opt_flat.state_dict()
    for index, state in saved["state"].items():
        for key, value in state.items():
            theirs = saved_flat["state"][index][key]
            assert np.array_equal(np.asarray(value), np.asarray(theirs)), (index, key)


def test_parameters_become_views_of_one_buffer_and_compiled_gradients_land_in_it():
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, foreach=True)
    flat = optimizer._flat[0][0]
    assert all(p.numpy().base is flat.param for p in model.parameters())
    compiled = cr.compile(model)
    x, y = cr.randn(6, 4), cr.randn(6, 3)
    for step in range(4):
        _step(compiled, optimizer, x, y)
        if step:   # the first call recorded (eagerly); replayed backwards write into the flat buffer
            assert all(p.grad.numpy() is grad_view(p) for p in model.parameters())


def test_missing_gradients_skip_those_parameters_as_pytorch_does():
    plain, flat = _model(), _model()
    opt_plain = optim.Adam(plain.parameters(), lr=1e-2)
    opt_flat = optim.Adam(flat.parameters(), lr=1e-2, fused=True)
    x, y = cr.randn(6, 4), cr.randn(6, 3)
    for step in range(6):
        for model, optimizer in ((plain, opt_plain), (flat, opt_flat)):
            optimizer.zero_grad()
            F.mse_loss(model(x), y).backward()
            if step in (1, 2):
                model[2].bias.grad = None   # this parameter sits two steps out
            optimizer.step()
    for a, b in zip(plain.parameters(), flat.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())
    assert opt_flat.state[flat[2].bias]["step"] == 4 and opt_flat.state[flat[0].weight]["step"] == 6


def test_state_dict_round_trip_and_replaced_values():
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=True)
    x, y = cr.randn(6, 4), cr.randn(6, 3)
    _step(model, optimizer, x, y)
    twin = _model()
    twin.load_state_dict(model.state_dict())
    twin_opt = optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    twin_opt.load_state_dict(optimizer.state_dict())
    optimizer.load_state_dict(optimizer.state_dict())   # fresh state arrays: taken back into the flat buffer
    model[0].bias.data = cr.zeros(8)                      # a new array: the flat layout is made again
    twin[0].bias.data = cr.zeros(8)
    for _ in range(3):
        assert _step(model, optimizer, x, y) == _step(twin, twin_opt, x, y)
    for a, b in zip(model.parameters(), twin.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())


def test_groups_keep_their_options_and_dtypes_get_their_own_buffers():
    model = _model()
    model[2].double()
    optimizer = optim.SGD([{"params": model[0].parameters(), "lr": 0.5}, {"params": model[2].parameters()}],
                          lr=0.01, fused=True)
    assert [len(flats) for flats in optimizer._flat] == [1, 1]
    assert optimizer._flat[1][0].param.dtype == np.float64
    before = [p.numpy().copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = cr.ones_like(p)
    optimizer.step()
    after = [p.numpy() for p in model.parameters()]
    assert np.allclose(before[0] - after[0], 0.5) and np.allclose(before[3] - after[3], 0.01)


def test_bad_option_is_refused():
    with pytest.raises(cr.ArgumentError, match="fused must be None, True or False"):
        optim.SGD(_model().parameters(), lr=0.1, fused="yes")
