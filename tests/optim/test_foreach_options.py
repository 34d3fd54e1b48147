"""``foreach=`` on every optimiser PyTorch (2.13) has it on, ``fused=`` only where PyTorch has it,
and the positional parameters in PyTorch's order. ``foreach=True`` (and Adagrad's ``fused=True``)
runs the update rule once on a flat buffer of the parameters: the values are bitwise those of
the per-parameter loop, and PyTorch's with ``foreach=True``."""

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "LBFGS"]


def _parameters(cls):
    return inspect.signature(cls.__init__).parameters


def _positional(cls):
    return [name for name, p in _parameters(cls).items()
            if name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]


@pytest.mark.parametrize("name", NAMES)
def test_foreach_and_fused_are_accepted_exactly_where_torch_has_them(name):
    ours, theirs = _parameters(getattr(optim, name)), _parameters(getattr(torch.optim, name))
    for option in ("foreach", "fused"):
        assert (option in ours) == (option in theirs), option
    # our positional parameters are torch's, in torch's order (what follows is keyword-only here)
    assert _positional(getattr(torch.optim, name))[:len(_positional(getattr(optim, name)))] == \
        _positional(getattr(optim, name))


RNG = np.random.default_rng(3)
SHAPES = [(3, 4), (4,), (2, 2, 3)]
START = [RNG.standard_normal(shape) for shape in SHAPES]
GRADS = [[RNG.standard_normal(shape) for shape in SHAPES] for _ in range(9)]
CASES = {
    "RMSprop momentum centered": lambda o, p, **kw: o.RMSprop(p, lr=0.01, momentum=0.5, centered=True,
                                                              weight_decay=0.1, **kw),
    "RMSprop maximize": lambda o, p, **kw: o.RMSprop(p, lr=0.01, maximize=True, **kw),
    "Adagrad": lambda o, p, **kw: o.Adagrad(p, lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                            initial_accumulator_value=0.3, **kw),
    "Adamax": lambda o, p, **kw: o.Adamax(p, lr=0.05, weight_decay=0.1, **kw),
    "NAdam decoupled": lambda o, p, **kw: o.NAdam(p, lr=0.05, weight_decay=0.2, decoupled_weight_decay=True,
                                                  **kw),
    "RAdam": lambda o, p, **kw: o.RAdam(p, lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, **kw),
    "SGD positional weight_decay": lambda o, p, **kw: o.SGD(p, 0.05, 0.9, 0.0, 0.1, **kw),
    "Adam maximize": lambda o, p, **kw: o.Adam(p, lr=0.05, maximize=True, **kw),
}


def _run(lib, make, **options):
    """Nine steps on given gradients (float64); the parameters after each and the optimiser."""
    if lib is torch:
        params = [torch.tensor(a, requires_grad=True) for a in START]
        optimizer = make(torch.optim, params, **options)
    else:
        params = [cr.tensor(a, requires_grad=True) for a in START]
        optimizer = make(optim, params, **options)
    history = []
    for grads in GRADS:
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        optimizer.step()
        history.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(history), optimizer


@pytest.mark.parametrize("name", list(CASES))
def test_foreach_steps_are_bitwise_the_loops_and_torchs(name):
    make = CASES[name]
    loop, opt_loop = _run(cr, make)
    flat, opt_flat = _run(cr, make, foreach=True)
    assert opt_flat._flat is not None and opt_loop._flat is None
    np.testing.assert_array_equal(flat, loop)
    np.testing.assert_array_equal(_run(cr, make, foreach=False)[0], loop)
    saved_loop, saved_flat = opt_loop.state_dict()["state"], opt_flat.state_dict()["state"]
    for index, state in saved_loop.items():
        for key, value in state.items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(saved_flat[index][key]), err_msg=key)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)    # torch's scalar state (NAdam's mu_product) in float64
    try:
        theirs, _ = _run(torch, make, foreach=True)
    finally:
        torch.set_default_dtype(previous)
    np.testing.assert_allclose(flat, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(flat[0], flat[-1])


def test_adagrad_takes_fused_as_torch_does():
    make = CASES["Adagrad"]
    np.testing.assert_array_equal(_run(cr, make, fused=True)[0], _run(cr, make)[0])


def test_what_torch_refuses_is_refused():
    params = [cr.zeros(2, requires_grad=True)]
    with pytest.raises(TypeError, match="fused"):
        optim.RMSprop(params, fused=True)           # torch's RMSprop has no fused= either
    with pytest.raises(TypeError):
        optim.Adam(params, 1e-3, (0.9, 0.999), 1e-8, 0.0, False, True)   # maximize is keyword-only
    with pytest.raises(cr.ArgumentError, match="foreach must be None, True or False"):
        optim.NAdam(params, foreach="yes")
