"""L-BFGS follows PyTorch's trajectory step for step (float64), with and without the strong-Wolfe
line search, on a convex and a non-convex smooth problem; its state round trips exactly.

On the convex problem the two agree to ~1e-15 after 80 iterations. On the non-convex one any
rounding difference grows about 30-100 times per 20 iterations (PyTorch against itself, started one
ulp apart, drifts just as much: 1e-8 after 80 iterations), so it is compared over 40 iterations.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.errors import ChainruleError

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py

RNG = np.random.default_rng(11)
INPUTS = RNG.normal(size=(40, 3))
LABELS = (INPUTS @ np.array([1.5, -2.0, 0.5]) + RNG.normal(scale=0.8, size=40) > 0).astype(float)
TARGETS = np.sin(INPUTS[:, :2] * 1.3)
START = {"w": RNG.normal(size=(3,)) * 0.1, "b": np.zeros(1),
         "w1": RNG.normal(size=(3, 6)) * 0.5, "b1": RNG.normal(size=(6,)) * 0.1,
         "w2": RNG.normal(size=(6, 2)) * 0.5, "b2": np.zeros(2)}


def logistic(lib, p, x, y):
    """Mean logistic loss + L2: smooth and convex."""
    z = x @ p["w"] + p["b"]
    return (lib.nn.functional.softplus(z) - y * z).mean() + 0.01 * (p["w"] * p["w"]).sum()


def tanh_net(lib, p, x, y):
    """A 3-6-2 tanh network's squared error: smooth, not convex."""
    out = lib.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
    return ((out - y) ** 2).mean()


PROBLEMS = {"logistic": (logistic, ("w", "b"), LABELS),
            "tanh_net": (tanh_net, ("w1", "b1", "w2", "b2"), TARGETS)}
STEPS = {"logistic": 4, "tanh_net": 2}


def run(lib, problem, options, steps, params=None, optimizer=None):
    """``steps`` calls of step(closure); returns the flat parameters after each, the returned losses,
    the parameters and the optimizer."""
    loss_fn, names, targets = PROBLEMS[problem]
    if lib is torch:
        p = {n: torch.tensor(START[n], requires_grad=True) for n in names}
        x, y = torch.tensor(INPUTS), torch.tensor(targets)
    else:
        p = params or {n: cr.tensor(START[n], dtype=cr.float64, requires_grad=True) for n in names}
        x, y = cr.tensor(INPUTS, dtype=cr.float64), cr.tensor(targets, dtype=cr.float64)
    optimizer = optimizer or lib.optim.LBFGS([p[n] for n in names], **options)

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(lib, p, x, y)
        loss.backward()
        return loss

    history, losses = [], []
    for _ in range(steps):
        losses.append(float(optimizer.step(closure).detach()))
        history.append(np.concatenate([p[n].detach().numpy().ravel() for n in names]))
    return np.array(history), losses, p, optimizer


CASES = {
    "default": {},
    "lr_0.8_like_the_time_series_example": {"lr": 0.8},
    "short_history": {"lr": 0.5, "max_iter": 10, "history_size": 3},
    "strong_wolfe": {"line_search_fn": "strong_wolfe"},
    "strong_wolfe_lr_0.8": {"lr": 0.8, "line_search_fn": "strong_wolfe", "history_size": 4},
    "strong_wolfe_few_evaluations": {"line_search_fn": "strong_wolfe", "max_iter": 8, "max_eval": 9},
    "tolerances": {"tolerance_grad": 1e-4, "tolerance_change": 1e-6, "max_iter": 50},
}


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_torch(name, problem):
    steps = 1 if name == "tolerances" and problem == "tanh_net" else STEPS[problem]   # 50 iterations a step
    ours, our_losses, _, our_optimizer = run(cr, problem, CASES[name], steps=steps)
    theirs, their_losses, _, their_optimizer = run(torch, problem, CASES[name], steps=steps)
    tolerance = 1e-12 if problem == "logistic" else 1e-8
    np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(our_losses, their_losses, rtol=tolerance, atol=tolerance)
    ours_state = our_optimizer.state[our_optimizer.param_groups[0]["params"][0]]
    theirs_state = their_optimizer.state[their_optimizer.param_groups[0]["params"][0]]
    for counter in ("func_evals", "n_iter"):
        assert ours_state[counter] == theirs_state[counter]
    assert len(ours_state["old_dirs"]) == len(theirs_state["old_dirs"])
    assert ours_state["prev_loss"] < our_losses[0]   # it really optimised


def test_the_minimum_is_found():
    options = {"line_search_fn": "strong_wolfe", "max_iter": 200, "tolerance_grad": 1e-9,
               "tolerance_change": 0}
    history, losses, params, _ = run(cr, "logistic", options, steps=2)
    x, y = cr.tensor(INPUTS, dtype=cr.float64), cr.tensor(LABELS, dtype=cr.float64)
    loss = logistic(cr, params, x, y)
    loss.backward()
    assert np.abs(params["w"].grad.numpy()).max() <= 1e-9
    np.testing.assert_array_equal(history[0], history[1])   # already optimal: the second step stops at once


@pytest.mark.parametrize("name", ["short_history", "strong_wolfe_lr_0.8"])
def test_state_dict_round_trip_continues_identically(name, tmp_path):
    full, _, _, _ = run(cr, "tanh_net", CASES[name], steps=4)
    _, _, params, first = run(cr, "tanh_net", CASES[name], steps=2)
    cr.save(first.state_dict(), tmp_path / "lbfgs.crz")
    saved = cr.load(tmp_path / "lbfgs.crz")
    assert sorted(saved["state"]) == [0] and saved["param_groups"][0]["params"] == [0, 1, 2, 3]

    copies = {n: cr.tensor(t.numpy().copy(), requires_grad=True) for n, t in params.items()}
    second = optim.LBFGS(list(copies.values()), **CASES[name])
    second.load_state_dict(saved)
    resumed, _, _, _ = run(cr, "tanh_net", CASES[name], steps=2, params=copies, optimizer=second)
    np.testing.assert_array_equal(resumed, full[2:])


def test_float32_parameters_stay_float32():
    w = cr.tensor(np.array([2.0, -1.0], np.float32), requires_grad=True)
    optimizer = optim.LBFGS([w], line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = ((w - cr.tensor([0.5, 0.25])) ** 2).sum()
        loss.backward()
        return loss
    optimizer.step(closure)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.numpy(), [0.5, 0.25], atol=1e-5)


def test_needs_a_closure_and_one_group():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="needs a closure"):
        optim.LBFGS([w]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [w]}, {"params": [cr.tensor([1.0], requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([w], line_search_fn="armijo")
    optimizer = optim.LBFGS([w])
    optimizer.add_param_group({"params": [cr.tensor([2.0], requires_grad=True)]})
    with pytest.raises(ChainruleError, match="parameter groups"):
        optimizer.step(lambda: w.sum())
