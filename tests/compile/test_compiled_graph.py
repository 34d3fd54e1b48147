"""The compiled call is one node of an ordinary graph: backward, cr.grad, retain_graph, create_graph,
hooks, several outputs, two calls before one backward, explain -- all as in eager mode."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.errors import GraphError


def _pair(seed=0):
    """A model and its compiled twin with the same weights."""
    cr.manual_seed(seed)
    eager = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    return eager, model, cr.compile(model)


def _grads(module):
    return [p.grad.numpy().copy() for p in module.parameters()]


def _warm(compiled, x, calls=3):
    for _ in range(calls):
        compiled(x)
    assert compiled.stats.recorded == 1


def test_the_output_is_one_node_and_backward_matches_eager_bitwise():
    eager, model, compiled = _pair()
    x = cr.randn(5, 3, requires_grad=True)
    x_eager = x.detach().requires_grad_()
    _warm(compiled, x)
    model.zero_grad()
    out = compiled(x)
    assert out.grad_fn.name == "CompiledFunctionBackward"
    F.mse_loss(out, cr.ones(5, 2)).backward()
    F.mse_loss(eager(x_eager), cr.ones(5, 2)).backward()
    for mine, theirs in zip(_grads(model), _grads(eager)):
        assert np.array_equal(mine, theirs)
    assert np.array_equal(x.grad.numpy() - x.grad.numpy(), np.zeros((5, 3)))
    assert np.allclose(x.grad.numpy(), x_eager.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_cr_grad_leaves_dot_grad_alone():
    eager, model, compiled = _pair()
    x = cr.randn(4, 3)
    _warm(compiled, x)
    loss = compiled(x).square().sum()
    grads = cr.grad(loss, list(model.parameters()))
    assert all(p.grad is None for p in model.parameters())
    expected = cr.grad(eager(x).square().sum(), list(eager.parameters()))
    for mine, theirs in zip(grads, expected):
        assert np.array_equal(mine.numpy(), theirs.numpy())


def test_gradients_accumulate_over_backward_calls_and_retain_graph():
    eager, model, compiled = _pair()
    x = cr.randn(4, 3)
    _warm(compiled, x)
    loss = compiled(x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    with pytest.raises(GraphError, match="second time"):
        loss.backward()
    e = eager(x).sum()
    e.backward(retain_graph=True)
    e.backward()
    for mine, theirs in zip(_grads(model), _grads(eager)):
        assert np.allclose(mine, theirs, rtol=1e-6)


def test_two_calls_before_one_backward_keep_their_own_values():
    eager, model, compiled = _pair()
    a, b = cr.randn(4, 3), cr.randn(4, 3)
    _warm(compiled, a)
    (compiled(a).sum() + compiled(b).square().sum()).backward()
    (eager(a).sum() + eager(b).square().sum()).backward()
    for mine, theirs in zip(_grads(model), _grads(eager)):
        assert np.allclose(mine, theirs, rtol=1e-6)


def test_create_graph_gives_second_derivatives():
    compiled = cr.compile(lambda x: (x * x * x).sum())
    x = cr.tensor([1.0, 2.0, -1.5], dtype=cr.float64, requires_grad=True)
    _warm(compiled, x)
    (g,) = cr.grad(compiled(x), [x], create_graph=True)
    assert np.allclose(g.numpy(), 3 * x.numpy() ** 2)
    g.sum().backward()
    assert np.allclose(x.grad.numpy(), 6 * x.numpy())


def test_several_outputs_and_outputs_without_gradient():
    def split(x):
        h = x.tanh()
        return {"h": h, "double": h * 2, "top": h.argmax(dim=1), "scale": 3}

    compiled = cr.compile(split, mode="check")
    x = cr.randn(4, 5, requires_grad=True)
    for _ in range(3):
        out = compiled(x)
        (out["h"].sum() + out["double"].square().sum()).backward()
    assert out["scale"] == 3 and not out["top"].requires_grad
    assert np.array_equal(out["top"].numpy(), np.tanh(x.numpy()).argmax(axis=1))
    t = np.tanh(x.numpy())
    assert np.allclose(x.grad.numpy() / 3, (1 + 8 * t) * (1 - t * t), rtol=1e-5)
    only_one = compiled(x)["double"].sum()
    x.grad = None
    only_one.backward()
    assert np.allclose(x.grad.numpy(), 2 * (1 - t * t), rtol=1e-5)


def test_leaf_hooks_and_post_accumulate_hooks_run():
    eager, model, compiled = _pair()
    x = cr.randn(4, 3)
    _warm(compiled, x)
    seen, accumulated = [], []
    model[0].weight.register_hook(lambda g: seen.append(g.shape) or g * 0)
    model[2].bias.register_post_accumulate_grad_hook(lambda p: accumulated.append(p.grad.shape))
    compiled(x).sum().backward()
    assert seen == [(6, 3)] and accumulated == [(2,)]
    assert not model[0].weight.grad.numpy().any()


def test_a_gradient_the_user_keeps_is_never_written_over():
    eager, model, compiled = _pair()
    optimizer = cr.optim.SGD(model.parameters(), lr=0.1)
    x = cr.randn(4, 3)
    kept = []
    for _ in range(4):
        optimizer.zero_grad()
        compiled(x).square().sum().backward()
        kept.append((model[0].weight.grad, model[0].weight.grad.numpy().copy()))
        optimizer.step()
    for grad, values in kept:
        assert np.array_equal(grad.numpy(), values)
    assert len({id(grad.numpy()) for grad, _ in kept}) == 4


def test_in_place_change_of_a_parameter_before_backward_is_refused():
    eager, model, compiled = _pair()
    x = cr.randn(4, 3)
    _warm(compiled, x)
    loss = compiled(x).sum()
    with cr.no_grad():
        model[2].weight.mul_(2.0)
    with pytest.raises(GraphError, match="modified by an in-place operation"):
        loss.backward()


def test_explain_shows_the_compiled_block_as_one_node():
    compiled = cr.compile(lambda w: (w * 3.0 - 10.0) ** 2)
    w = cr.tensor(2.0, requires_grad=True)
    _warm(compiled, w)
    text = str(cr.explain(compiled(w)))
    assert "CompiledFunction(leaf) = CompiledFunction(2) = 16" in text and "dL/d(leaf) = \u221224" in text


def test_plan_source_is_readable_python():
    compiled = cr.compile(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)))
    _warm(compiled, cr.randn(3, 2))
    source = compiled.plans()[0].source
    assert "def forward(A, R):" in source and "def backward(G, S, H):" in source
    assert "# relu" in source and "_matmul(" in source
    compile(source, "<plan>", "exec")
