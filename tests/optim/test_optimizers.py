"""Every optimizer follows PyTorch's trajectory step for step on the same small problem."""

import contextlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.errors import ChainruleError

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
INPUTS = RNG.normal(size=(8, 3))
TARGETS = RNG.normal(size=(8, 2))
W0 = RNG.normal(size=(3, 2))
B0 = RNG.normal(size=(2,))
STEPS = 20


def _loss(lib_inputs, lib_targets, weight, bias):
    """A small least-squares problem with a cubic term so gradients are not linear in w."""
    residual = lib_inputs @ weight + bias - lib_targets
    return (residual * residual).mean() + (weight * weight * weight).sum() * 0.1


def _chainrule_trajectory(make_optimizer, steps=STEPS, use_closure=False):
    weight = cr.tensor(W0, dtype=cr.float64, requires_grad=True)
    bias = cr.tensor(B0, dtype=cr.float64, requires_grad=True)
    optimizer = make_optimizer(optim, [weight, bias])
    inputs, targets = cr.tensor(INPUTS, dtype=cr.float64), cr.tensor(TARGETS, dtype=cr.float64)
    history = []
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            loss = _loss(inputs, targets, weight, bias)
            loss.backward()
            return loss
        if use_closure:
            optimizer.step(closure)
        else:
            closure()
            optimizer.step()
        history.append(np.concatenate([weight.numpy().ravel(), bias.numpy().ravel()]))
    return np.array(history), optimizer, (weight, bias)


@contextlib.contextmanager
def float64_scalar_state():
    """PyTorch keeps optimizer scalars (NAdam's mu_product) in the default dtype: float64 here, so
    the comparison is float64 throughout."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _torch_trajectory(make_optimizer, steps=STEPS):
    with float64_scalar_state():
        return _torch_steps(make_optimizer, steps)


def _torch_steps(make_optimizer, steps):
    weight = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(B0, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(torch.optim, [weight, bias])
    inputs, targets = torch.tensor(INPUTS), torch.tensor(TARGETS)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(inputs, targets, weight, bias).backward()
        optimizer.step()
        history.append(np.concatenate([weight.detach().numpy().ravel(), bias.detach().numpy().ravel()]))
    return np.array(history)


CASES = {
    "sgd": lambda o, p: o.SGD(p, lr=0.05),
    "sgd_momentum": lambda o, p: o.SGD(p, lr=0.05, momentum=0.9),
    "sgd_dampening": lambda o, p: o.SGD(p, lr=0.05, momentum=0.8, dampening=0.3),
    "sgd_nesterov_wd": lambda o, p: o.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_wd_maximize": lambda o, p: o.SGD(p, lr=0.01, weight_decay=0.1, maximize=True),
    "adam": lambda o, p: o.Adam(p, lr=0.05),
    "adam_wd_amsgrad": lambda o, p: o.Adam(p, lr=0.05, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True),
    "adam_maximize": lambda o, p: o.Adam(p, lr=0.01, maximize=True),
    "adamw": lambda o, p: o.AdamW(p, lr=0.05),
    "adamw_amsgrad": lambda o, p: o.AdamW(p, lr=0.05, weight_decay=0.3, amsgrad=True, eps=1e-6),
    "rmsprop": lambda o, p: o.RMSprop(p, lr=0.01),
    "rmsprop_momentum_wd": lambda o, p: o.RMSprop(p, lr=0.01, momentum=0.9, weight_decay=0.05),
    "rmsprop_centered": lambda o, p: o.RMSprop(p, lr=0.01, alpha=0.9, centered=True),
    "rmsprop_centered_momentum": lambda o, p: o.RMSprop(p, lr=0.01, centered=True, momentum=0.5, eps=1e-4),
    "groups": lambda o, p: o.SGD([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.2, "momentum": 0.5}],
                                 lr=0.05, momentum=0.9),
    "adagrad": lambda o, p: o.Adagrad(p, lr=0.1),
    "adagrad_all_options": lambda o, p: o.Adagrad(p, lr=0.2, lr_decay=0.05, weight_decay=0.1,
                                                  initial_accumulator_value=0.3, eps=1e-6),
    "adagrad_maximize": lambda o, p: o.Adagrad(p, lr=0.01, maximize=True),
    "adamax": lambda o, p: o.Adamax(p, lr=0.05),
    "adamax_wd_maximize": lambda o, p: o.Adamax(p, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1,
                                                maximize=True),
    "nadam": lambda o, p: o.NAdam(p, lr=0.05),
    "nadam_wd": lambda o, p: o.NAdam(p, lr=0.05, betas=(0.85, 0.99), weight_decay=0.1, momentum_decay=0.01),
    "nadam_decoupled": lambda o, p: o.NAdam(p, lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
    "radam": lambda o, p: o.RAdam(p, lr=0.05),
    "radam_wd": lambda o, p: o.RAdam(p, lr=0.05, betas=(0.9, 0.9), weight_decay=0.1),
    "radam_decoupled_maximize": lambda o, p: o.RAdam(p, lr=0.01, weight_decay=0.2,
                                                     decoupled_weight_decay=True, maximize=True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_torch(name):
    ours, _, _ = _chainrule_trajectory(CASES[name])
    theirs = _torch_trajectory(CASES[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[0], ours[-1])   # the parameters really moved


def test_closure_step_returns_loss_and_matches():
    plain, _, _ = _chainrule_trajectory(CASES["adam"])
    with_closure, _, _ = _chainrule_trajectory(CASES["adam"], use_closure=True)
    np.testing.assert_array_equal(plain, with_closure)


RESUMED = ["sgd_nesterov_wd", "adam_wd_amsgrad", "rmsprop_centered_momentum", "groups", "adagrad_all_options",
           "adamax_wd_maximize", "nadam_wd", "radam_wd"]


@pytest.mark.parametrize("name", RESUMED)
def test_state_dict_round_trip_continues_identically(name):
    make = CASES[name]
    full, _, _ = _chainrule_trajectory(make, steps=12)
    _, first, (weight, bias) = _chainrule_trajectory(make, steps=6)
    saved = first.state_dict()
    assert sorted(saved["state"]) == [0, 1]
    assert [group["params"] for group in saved["param_groups"]] in ([[0, 1]], [[0], [1]])

    # a fresh optimizer on copies of the parameters, restored from the saved state
    weight2 = cr.tensor(weight.numpy().copy(), requires_grad=True)
    bias2 = cr.tensor(bias.numpy().copy(), requires_grad=True)
    second = make(optim, [weight2, bias2])
    second.load_state_dict(saved)
    inputs, targets = cr.tensor(INPUTS, dtype=cr.float64), cr.tensor(TARGETS, dtype=cr.float64)
    for step in range(6, 12):
        second.zero_grad()
        _loss(inputs, targets, weight2, bias2).backward()
        second.step()
        resumed = np.concatenate([weight2.numpy().ravel(), bias2.numpy().ravel()])
        np.testing.assert_array_equal(resumed, full[step])


def test_state_dict_is_a_copy_and_survives_cr_save(tmp_path):
    _, optimizer, _ = _chainrule_trajectory(CASES["adam_wd_amsgrad"], steps=3)
    saved = optimizer.state_dict()
    before = saved["state"][0]["exp_avg"].numpy().copy()
    optimizer.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), before)
    cr.save(saved, tmp_path / "opt.crz")
    loaded = cr.load(tmp_path / "opt.crz")
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.95)
    assert loaded["state"][1]["step"] == 3
    np.testing.assert_array_equal(loaded["state"][0]["max_exp_avg_sq"].numpy(),
                                  saved["state"][0]["max_exp_avg_sq"].numpy())


def test_float32_parameters_stay_float32_and_update_in_place():
    weight = cr.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    storage = weight.numpy()
    for make in (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
                 lambda p: optim.Adam(p, amsgrad=True), lambda p: optim.AdamW(p),
                 lambda p: optim.RMSprop(p, centered=True, momentum=0.9),
                 lambda p: optim.Adagrad(p, lr_decay=0.1, weight_decay=0.1), lambda p: optim.Adamax(p),
                 lambda p: optim.NAdam(p, weight_decay=0.1), lambda p: optim.RAdam(p, weight_decay=0.1),
                 lambda p: optim.NAdam(p, weight_decay=0.1, decoupled_weight_decay=True)):
        optimizer = make([weight])
        for _ in range(2):
            optimizer.zero_grad()
            (weight * weight).sum().backward()
            optimizer.step()
        assert weight.numpy() is storage and weight.dtype == np.float32
        assert all(v.dtype == np.float32 for s in optimizer.state.values() for v in s.values()
                   if isinstance(v, np.ndarray))


def test_the_lessons_update_rule():
    """w_new = w_old - lr * gradient: the lesson's worked example, w = 2, dL/dw = -24."""
    w = cr.tensor(2.0, requires_grad=True)
    optimizer = optim.SGD([w], lr=0.01)
    ((w * 3.0 - 10.0) ** 2).backward()
    optimizer.step()
    assert w.item() == pytest.approx(2.0 - 0.01 * -24.0)
    assert "w_new = w_old - lr * gradient" in optim.SGD.__doc__


def test_zero_grad_and_skipping_parameters_without_grad():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0], requires_grad=True)
    optimizer = optim.SGD([a, b], lr=1.0, momentum=0.9)
    (a * a).sum().backward()
    optimizer.step()
    np.testing.assert_array_equal(b.numpy(), [3.0])
    assert b not in optimizer.state or not optimizer.state[b]
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    optimizer.zero_grad()
    assert a.grad is None


def test_add_param_group_and_bad_input():
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([1.0], requires_grad=True)
    optimizer = optim.Adam([a], lr=0.1)
    optimizer.add_param_group({"params": b, "lr": 0.5})
    assert optimizer.param_groups[1]["lr"] == 0.5 and optimizer.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="betas"):
        optim.AdamW([a], betas=(0.9, 1.0))
    with pytest.raises(ChainruleError, match="parameter group"):
        optim.SGD([a], lr=0.1).load_state_dict(optimizer.state_dict())
    assert "Parameter Group 1" in repr(optimizer)


def test_in_place_step_is_seen_by_graphs_that_saved_the_parameter():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    loss = (w * w).sum()
    optimizer.step()
    with pytest.raises(ChainruleError):
        loss.backward()


@pytest.mark.parametrize("name", ["adagrad_all_options", "adamax", "nadam_wd", "radam_wd", "adam_wd_amsgrad",
                                  "rmsprop_centered_momentum"])
def test_state_and_options_have_torchs_names(name):
    _, ours, (weight, bias) = _chainrule_trajectory(CASES[name], steps=3)
    params = [torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)]
    with float64_scalar_state():
        theirs = CASES[name](torch.optim, params)
        for _ in range(3):
            theirs.zero_grad()
            _loss(torch.tensor(INPUTS), torch.tensor(TARGETS), *params).backward()
            theirs.step()
    ours_saved, theirs_saved = ours.state_dict(), theirs.state_dict()
    assert set(ours_saved["state"][0]) == set(theirs_saved["state"][0])
    assert set(ours_saved["param_groups"][0]) <= set(theirs_saved["param_groups"][0])
    for key, value in ours_saved["state"][0].items():
        np.testing.assert_allclose(np.asarray(value.numpy() if isinstance(value, cr.Tensor) else value),
                                   theirs_saved["state"][0][key].numpy(), rtol=1e-10)


def test_adagrad_makes_its_state_when_built_as_torch_does():
    weight = cr.zeros(3, requires_grad=True)
    saved = optim.Adagrad([weight], initial_accumulator_value=0.25).state_dict()
    assert saved["state"][0]["step"] == 0
    np.testing.assert_array_equal(saved["state"][0]["sum"].numpy(), [0.25, 0.25, 0.25])
    added = cr.zeros(2, requires_grad=True)
    optimizer = optim.Adagrad([weight], lr=0.5)
    optimizer.add_param_group({"params": [added], "initial_accumulator_value": 1.0})
    (added * cr.tensor([3.0, 4.0])).sum().backward()
    optimizer.step()   # a group added later gets its state on its first step
    np.testing.assert_allclose(added.numpy(), [-0.5 * 3 / np.sqrt(10.0), -0.5 * 4 / np.sqrt(17.0)])
