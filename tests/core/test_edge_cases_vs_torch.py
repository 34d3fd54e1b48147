"""The edge cases a reliability review found answering differently from PyTorch, pinned one by one.

Each case runs the same code under chainrule and torch 2.13 (float64) and compares the forward
value and every gradient, NaN for NaN. The random differential test (test_differential_fuzz.py)
looks for the next such case; these are the ones already found.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _both(build, *arrays):
    """build(lib, F, *leaves) under both libraries: (ours, theirs) as (value, [grads])."""
    results = []
    for lib, functional in ((cr, F), (torch, TF)):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = build(lib, functional, *leaves)
        out.backward(lib.ones_like(out)) if out.requires_grad else None
        value = out.detach().numpy() if lib is torch else out.numpy()
        grads = [None if t.grad is None else np.asarray(t.grad.detach().numpy() if lib is torch
                                                        else t.grad.numpy()) for t in leaves]
        results.append((np.asarray(value), grads))
    return results


def _assert_same(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-300, equal_nan=True)
    for mine, reference in zip(ours[1], theirs[1]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-300, equal_nan=True)


CASES = {
    "mean of an empty selection": (lambda lib, f, x: x[x > 10].mean(), [[1.0, 2.0]]),
    "var over one element": (lambda lib, f, x: x.var(1), [[[1.0], [2.0]]]),
    "std of constant rows": (lambda lib, f, x: x.std(1), [[[3.0, 3.0, 3.0], [1.0, 1.0, 1.0]]]),
    "zero to the zero": (lambda lib, f, a, b: a ** b, [[0.0, 2.0, 0.0], [0.0, 0.0, 1.5]]),
    "elu at exactly zero": (lambda lib, f, x: f.elu(x, 2.0), [[-1.0, 0.0, 1.0]]),
    "softmax over an empty dim": (lambda lib, f, x: x.softmax(1), [np.zeros((2, 0))]),
    "log_softmax over an empty dim": (lambda lib, f, x: x.log_softmax(1), [np.zeros((2, 0))]),
    "logsumexp over an empty dim": (lambda lib, f, x: x.logsumexp(1), [np.zeros((2, 0))]),
    "max_pool2d ceil_mode, window past the edge": (
        lambda lib, f, x: f.max_pool2d(x, 2, 2, 0, ceil_mode=True), [np.arange(9.0).reshape(1, 1, 3, 3)]),
    "max_pool2d ceil_mode, input smaller than the window": (
        lambda lib, f, x: f.max_pool2d(x, 2, 3, 0, ceil_mode=True), [np.ones((1, 1, 1, 1))]),
    "avg_pool2d ceil_mode": (
        lambda lib, f, x: f.avg_pool2d(x, 3, 2, 1, ceil_mode=True), [np.arange(16.0).reshape(1, 1, 4, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_case_matches_torch(name):
    build, arrays = CASES[name]
    ours, theirs = _both(build, *arrays)
    _assert_same(ours, theirs)


def test_std_of_constant_huge_rows_is_zero_with_a_zero_gradient():
    """PyTorch gives std 0 here too, but NaN gradients: its backward's mean overflows (2e308 / 2);
    chainrule adds the values already divided, so the gradient is the 0 that the math says."""
    ours, theirs = _both(lambda lib, f, x: x.std(0), [[1e308, -1e308], [1e308, -1e308]])
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1][0], np.zeros((2, 2)))
    x = cr.tensor([1e308, -1e308], dtype=cr.float64)
    assert x.std().item() == pytest.approx(1.4142135623730951e308)   # PyTorch overflows to inf here


def test_cross_entropy_with_every_target_ignored_has_a_zero_gradient():
    logits = np.random.default_rng(0).normal(size=(3, 4))
    for smoothing in (0.0, 0.1):
        ours, theirs = _both(lambda lib, f, x, smoothing=smoothing: f.cross_entropy(
            x, lib.tensor([-100, -100, -100]), label_smoothing=smoothing), logits)
        _assert_same(ours, theirs)
        assert np.isnan(ours[0]) and not np.isnan(ours[1][0]).any()


def test_a_hook_returning_the_wrong_shape_is_a_clear_error():
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g.sum())
    with pytest.raises(cr.GraphError, match=r"hook '<lambda>' returned a gradient of shape \(\) for a tensor "
                                            r"of shape \(3,\)"):
        y.sum().backward()


def test_no_numpy_warning_reaches_a_user():
    """Run as a user would (no pytest filters): NaN and Inf arise silently, as in PyTorch."""
    script = textwrap.dedent("""
        import chainrule as cr
        x = cr.tensor([[1.0], [2.0]], requires_grad=True)
        (x.var(1).sum() + x.std(1).sum()).backward()
        y = cr.tensor([0.0, -1.0, 1e308], requires_grad=True)
        (y.log() + y.sqrt() + (y * 1e308) + 1 / y).sum().backward()
        z = cr.tensor([1.0, 2.0], requires_grad=True)
        z[z > 10].mean().backward()
        cr.tensor([[1e308, 1e308]]).var(1)
        cr.zeros(2, 0).logsumexp(1)
        print("clean")
    """)
    done = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "clean", done.stderr
