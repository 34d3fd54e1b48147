"""In-place operations recorded in the graph, compared with PyTorch 2.13 (values and gradients).

``x.add_(y)``, ``x[idx] = v``, ``x[idx] += v``, ``masked_fill_``, ``clamp_``, ``relu_``, ``copy_``,
``zero_``... change the tensor itself; earlier users of the tensor keep its old value's node; an
op whose backward needs a value that was overwritten refuses, as PyTorch does.
"""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

X = [0.2, 0.7, 1.1]
B = [1.0, 2.0, 3.0]


def _run(lib, build):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    b = lib.tensor(B, dtype=lib.float64, requires_grad=True)
    out = build(lib, x, b)
    out.backward(lib.ones_like(out) * lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64)[:out.shape[-1]]
                 if out.ndim else None)
    value = out.detach().numpy() if lib is torch else out.numpy()
    grads = [None if t.grad is None else (t.grad.detach().numpy() if lib is torch else t.grad.numpy())
             for t in (x, b)]
    return np.array(value, copy=True), grads


def _iadd(t, other):
    t += other
    return t


def _set(t, index, value):
    t[index] = value
    return t


def _feeds_the_new_value(L, x, b):
    """A user of y's old value is an input of its new one: the walk must not take y as it is now
    for an input of that user (it reached the user first and lost y's gradient to it)."""
    y = x.clone()
    a = y + 1
    y.add_(a)
    return a * b + y * y


def _used_then_changed(h):
    before = h + 1                # uses h's old value (add: its backward needs no values)
    h.mul_(2)
    return before + h


CASES = {
    "h += b on a non-leaf": lambda L, x, b: _iadd(x * 2, b),
    "add_ then another op": lambda L, x, b: (x * 2).add_(b) * 3,
    "sub_ / mul_ / div_ chain": lambda L, x, b: (x + 1).sub_(b).mul_(b).div_(2.0),
    "a user from before the change": lambda L, x, b: _used_then_changed(x * 3),
    "x[:2] = v on a constant": lambda L, x, b: _set(L.zeros(3, dtype=L.float64), slice(0, 2), b[:2] * x[1]),
    "x[1] = v on a graph tensor": lambda L, x, b: _set(x * 1, 1, b[0] * 5) * x,
    "x[idx] += v": lambda L, x, b: (lambda z: (z.__setitem__(slice(0, 2), z[0:2] + b[1:]), z)[1])(x * 1),
    "x[mask] = 0": lambda L, x, b: _set(x * b, (x > 0.5), 0.0),
    "x[[0, 2]] = v": lambda L, x, b: _set(x * 2, [0, 2], b[:2]),
    "masked_fill_": lambda L, x, b: (x * b).masked_fill_(x > 0.5, 0.0),
    "clamp_ reads the old values": lambda L, x, b: (x * 2).clamp_(0.0, 1.0),
    "relu_": lambda L, x, b: (x - 0.5).relu_(),
    "copy_ from a graph tensor": lambda L, x, b: L.zeros(3, dtype=L.float64).copy_(x * b),
    "zero_ then use": lambda L, x, b: (x * 2).zero_() + x,
    "constant += a graph tensor": lambda L, x, b: _iadd(L.ones(3, dtype=L.float64), x * b),
    "mul_ by a graph tensor": lambda L, x, b: (x + 0).mul_(b),
    "fill_ one element's row": lambda L, x, b: _set(L.stack([x, b]), 0, 1.0).sum(0),
    "a user of the old value feeds the new one": _feeds_the_new_value,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_matches_torch(name):
    ours, theirs = _run(cr, CASES[name]), _run(torch, CASES[name])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for mine, reference in zip(ours[1], theirs[1]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_overwriting_a_value_the_backward_needs_is_refused_as_in_torch():
    x = cr.tensor(X, requires_grad=True)
    y = x.tanh()
    y.add_(1.0)                   # tanh's backward reads its output, which is gone
    with pytest.raises(cr.GraphError, match="output of 'tanh'.*modified by an in-place operation"):
        y.sum().backward()
    a = cr.tensor(B)
    z = (x * a).sum()
    a.add_(1.0)                   # mul's backward reads a
    with pytest.raises(cr.GraphError, match="modified by an in-place operation"):
        z.backward()


def test_add_backward_does_not_need_the_old_values():
    x = cr.tensor(X, requires_grad=True)
    a = cr.tensor(B)
    z = (x + a).sum()
    a.add_(1.0)                   # add saved nothing: PyTorch lets this through, so does chainrule
    z.backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_in_place_on_a_view_is_refused_by_name_and_works_as_augmented_assignment():
    x = cr.tensor(X, requires_grad=True)
    h = x * 1
    with pytest.raises(cr.GraphError, match="view of another one"):
        h[0:2].add_(1.0)
    h[0:2] += 1.0                 # Python: h.__setitem__(slice, h[0:2].__iadd__(1.0))
    h.sum().backward()
    assert h.tolist() == pytest.approx([1.2, 1.7, 1.1]) and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_leaves_that_require_grad_refuse_in_place_changes_outside_no_grad():
    w = cr.tensor([1.0], requires_grad=True)
    for change in (lambda: w.add_(1.0), lambda: w.__setitem__(0, 2.0), lambda: w.zero_()):
        with pytest.raises(cr.GraphError, match="no_grad"):
            change()
    with cr.no_grad():
        w.zero_()
    assert w.item() == 0.0 and w.is_leaf


def test_graph_structure_survives_backward_where_nodes_saved_nothing():
    x = cr.tensor(X, requires_grad=True)
    shared = x + 1                # add saves nothing, as in PyTorch
    a, b = shared.sum(), (shared * 2).sum()
    a.backward()
    b.backward()                  # PyTorch lets this through the shared x + 1; so does chainrule now
    assert x.grad.tolist() == [3.0, 3.0, 3.0]
    y = x.exp()                   # exp saves its output: a second pass is still refused
    c, d = y.sum(), (y * 2).sum()
    c.backward()
    with pytest.raises(cr.GraphError, match="second time"):
        (d + y.sum()).backward()


def test_in_place_results_have_the_right_dtype_and_shape():
    x = cr.ones(3, requires_grad=True)
    h = x * 1
    with pytest.raises(cr.ShapeError, match="keeps the tensor's shape"):
        h.add_(cr.ones(2, 3))
    i = cr.tensor([1, 2, 3])
    with pytest.raises(cr.DTypeError, match="can't be cast"):
        i.add_(cr.ones(3, requires_grad=True))


def test_a_recorded_backward_from_an_overwritten_input_refuses():
    """create_graph recomputes exp's output from its input, which exp_ wrote over (no copy is kept
    for an op whose backward reads only its output): a clear error, not a wrong gradient."""
    x = cr.tensor(X, dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.GraphError, match="recomputes its output"):
        cr.autograd.grad(x.clone().exp_().sum(), [x], create_graph=True)
    z = x * cr.tensor([1.0, -1.0, 1.0], dtype=cr.float64)
    s = z.sigmoid()
    z.relu_()                     # sigmoid's input, where negative, is now 0
    with pytest.raises(cr.GraphError, match="'sigmoid'.*recomputes its output"):
        cr.autograd.grad((s * z).sum(), [x], create_graph=True)


def test_relu_in_place_recomputes_the_same_under_create_graph():
    """relu_ overwrites its input too, but relu(relu(h)) = relu(h): second derivatives as torch's."""
    def f(L, x):
        h = x * L.tensor([1.0, -1.0, 2.0], dtype=L.float64)
        return (h.relu_() ** 3).sum()
    grads = []
    for L in (cr, torch):
        x = L.tensor(X, dtype=L.float64, requires_grad=True)
        (g,) = (cr.autograd.grad if L is cr else torch.autograd.grad)(f(L, x), [x], create_graph=True)
        (gg,) = (cr.autograd.grad if L is cr else torch.autograd.grad)(g.sum(), [x])
        grads.append((g.detach().numpy(), gg.detach().numpy()))
    for mine, theirs in zip(*grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
