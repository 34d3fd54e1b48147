"""Whether a forward-mode transform's result keeps a grad_fn, as torch.func (2.13) decides: a
reverse transform inside a forward one (hessian = jacfwd(jacrev(f)), jvp of a grad) records its
backward pass so that tangents flow through it, but the result keeps that graph only when
something outside the call requires grad -- an argument, or a tensor the function closes over --
and then backward through it reaches those tensors with torch's numbers."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

torch = pytest.importorskip("torch")
tf = torch.func

X = np.array([0.5, -1.25, 2.0])
W = np.array([1.5, 0.25, -0.75])


def cube(M, w):
    return lambda x: (w * M.sin(x) * x ** 3).sum()


def transforms(lib, w):
    """Each way of reaching a reverse pass under forward mode, as f(x) -> a tuple of Tensors."""
    M = cr if lib is func else torch
    f = cube(M, w)
    ones = (cr.ones(3, dtype=cr.float64) if lib is func else torch.ones(3, dtype=torch.float64),)
    return {
        "hessian": lambda x: (lib.hessian(f)(x),),
        "jacfwd(jacrev)": lambda x: (lib.jacfwd(lib.jacrev(f))(x),),
        "jacfwd(grad)": lambda x: (lib.jacfwd(lib.grad(f))(x),),
        "jvp(grad)": lambda x: lib.jvp(lib.grad(f), (x,), ones),
    }


NAMES = list(transforms(func, 1.0))


@pytest.mark.parametrize("name", NAMES)
def test_nothing_requiring_grad_gives_results_without_a_graph(name):
    ours = transforms(func, cr.tensor(W))[name](cr.tensor(X))
    theirs = transforms(tf, torch.tensor(W))[name](torch.tensor(X))
    for mine, expected in zip(ours, theirs):
        assert expected.grad_fn is None and not expected.requires_grad
        assert mine.grad_fn is None and not mine.requires_grad
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_a_closed_over_tensor_requiring_grad_keeps_the_graph_and_gets_torchs_gradient(name):
    w, tw = cr.tensor(W, requires_grad=True), torch.tensor(W, requires_grad=True)
    ours = transforms(func, w)[name](cr.tensor(X))
    theirs = transforms(tf, tw)[name](torch.tensor(X))
    assert all(t.grad_fn is not None for t in ours) and all(t.grad_fn is not None for t in theirs)
    sum(t.sum() for t in ours).backward()
    sum(t.sum() for t in theirs).backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["hessian", "jacfwd(grad)"])
def test_an_argument_requiring_grad_keeps_the_graph_and_gets_torchs_gradient(name):
    x, tx = cr.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    result = transforms(func, cr.tensor(W))[name](x)[0]
    expected = transforms(tf, torch.tensor(W))[name](tx)[0]
    assert result.grad_fn is not None and expected.grad_fn is not None
    result.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


def test_under_no_grad_and_nested_the_results_are_still_torchs():
    w = cr.tensor(W, requires_grad=True)
    with cr.no_grad():
        assert func.hessian(cube(cr, w))(cr.tensor(X)).grad_fn is None
    third = func.jacfwd(func.hessian(cube(cr, cr.tensor(W))))(cr.tensor(X))   # an outer dual level
    expected = tf.jacfwd(tf.hessian(cube(torch, torch.tensor(W))))(torch.tensor(X))
    assert third.grad_fn is None and expected.grad_fn is None
    np.testing.assert_allclose(third.numpy(), expected.numpy(), rtol=1e-10)
