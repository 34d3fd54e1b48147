"""chainrule.func against torch.func (2.13) on small functions, in float64: grad, grad_and_value,
vjp, jvp, jacrev, jacfwd, hessian (and every other way to nest two of them), vmap; and the
forward_ad names, their levels and their errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import forward_ad as fwAD
from chainrule import func
from chainrule.errors import ArgumentError, GraphError, ShapeError

torch = pytest.importorskip("torch")
tf = torch.func

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal(3), RNG.standard_normal((2, 3))
W = RNG.standard_normal((4, 3))


def both(array):
    return cr.tensor(array, dtype=cr.float64), torch.tensor(array, dtype=torch.float64)


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    """Same structure (tuples, lists, dicts) and the same numbers."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), type(ours)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
        for key in theirs:
            close(ours[key], theirs[key], rtol, atol)
    elif isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            close(a, b, rtol, atol)
    else:
        assert ours == theirs


# f(M, *xs): one function for both libraries (M is chainrule or torch)
FUNCTIONS = {
    "scalar": lambda M, x: (M.sin(x) * x ** 2).sum() + M.exp(x).mean(),
    "vector": lambda M, x: M.tanh(x) * x[0] + M.log1p(x * x),
    "matrix": lambda M, x: M.softmax(x @ x.T, -1),
    "two_args": lambda M, x, w: M.sigmoid(w @ x).sum() * x.norm(),
}


@pytest.mark.parametrize("name", ["scalar", "two_args"])
def test_grad_grad_and_value_and_argnums(name):
    f = FUNCTIONS[name]
    args = [both(X), both(W)][: 1 if name == "scalar" else 2]
    ours, theirs = [a[0] for a in args], [a[1] for a in args]
    close(func.grad(lambda *xs: f(cr, *xs))(*ours), tf.grad(lambda *xs: f(torch, *xs))(*theirs))
    close(func.grad_and_value(lambda *xs: f(cr, *xs))(*ours),
          tf.grad_and_value(lambda *xs: f(torch, *xs))(*theirs))
    if name == "two_args":
        close(func.grad(lambda *xs: f(cr, *xs), argnums=(0, 1))(*ours),
              tf.grad(lambda *xs: f(torch, *xs), argnums=(0, 1))(*theirs))
        close(func.grad(lambda *xs: f(cr, *xs), argnums=-1)(*ours),
              tf.grad(lambda *xs: f(torch, *xs), argnums=-1)(*theirs))


def test_grad_has_aux_dicts_and_the_lesson():
    def loss(M):
        return lambda p, x: (((p["w"] * x).sum() - p["b"]) ** 2, {"prediction": (p["w"] * x).sum()})

    (w, tw), (b, tb), (x, tx) = both(np.array([2.0, 1.0])), both(np.array(10.0)), both(np.array([3.0, -1.0]))
    close(func.grad(loss(cr), has_aux=True)({"w": w, "b": b}, x),
          tf.grad(loss(torch), has_aux=True)({"w": tw, "b": tb}, tx))
    lesson = func.grad(lambda w: (w * 3.0 - 10.0) ** 2)(cr.tensor(2.0))   # dL/dw = -24
    assert lesson.item() == -24.0 and not lesson.requires_grad


@pytest.mark.parametrize("name", ["vector", "matrix"])
def test_vjp_and_jvp(name):
    f = FUNCTIONS[name]
    (x, tx), shape = both(X if name == "vector" else Y), (X if name == "vector" else Y).shape
    (v, tv) = both(RNG.standard_normal(f(np, X if name == "vector" else Y).shape)
                   if name == "vector" else RNG.standard_normal((2, 2)))
    (u, tu) = both(RNG.standard_normal(shape))
    out, pullback = func.vjp(lambda x: f(cr, x), x)
    t_out, t_pullback = tf.vjp(lambda x: f(torch, x), tx)
    close(out, t_out)
    close(pullback(v), t_pullback(tv))
    close(pullback(v * 2), t_pullback(tv * 2))   # a pullback may be called again
    close(func.jvp(lambda x: f(cr, x), (x,), (u,)), tf.jvp(lambda x: f(torch, x), (tx,), (tu,)))


@pytest.mark.parametrize("name", ["vector", "matrix", "two_args"])
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians(name, transform):
    f = FUNCTIONS[name]
    args = [both(X)] if name == "vector" else [both(Y)] if name == "matrix" else [both(X), both(W)]
    argnums = (0, 1) if name == "two_args" else 0
    ours = getattr(func, transform)(lambda *xs: f(cr, *xs), argnums)(*[a[0] for a in args])
    theirs = getattr(tf, transform)(lambda *xs: f(torch, *xs), argnums)(*[a[1] for a in args])
    close(ours, theirs)


@pytest.mark.parametrize("outer", ["jacfwd", "jacrev"])
@pytest.mark.parametrize("inner", ["jacfwd", "jacrev"])
def test_every_way_to_take_second_derivatives(outer, inner):
    f = FUNCTIONS["scalar"]
    x, tx = both(X)
    expected = tf.hessian(lambda x: f(torch, x))(tx)
    close(getattr(func, outer)(getattr(func, inner)(lambda x: f(cr, x)))(x), expected)
    close(func.hessian(lambda x: f(cr, x))(x), expected)


def test_hessian_of_two_arguments_and_grad_of_grad():
    f = FUNCTIONS["two_args"]
    (x, tx), (w, tw) = both(X), both(W)
    close(func.hessian(lambda *a: f(cr, *a), argnums=(0, 1))(x, w),
          tf.hessian(lambda *a: f(torch, *a), argnums=(0, 1))(tx, tw))
    cube = func.grad(func.grad(lambda t: t ** 3))(cr.tensor(2.0))
    assert cube.item() == 12.0


def test_nested_transforms_do_not_confuse_an_inner_and_an_outer_argument():
    """d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x (the inner derivative is x, not 2x)."""
    def outer(x):
        return x * func.grad(lambda y: x * y)(x)

    assert func.grad(outer)(cr.tensor(3.0)).item() == 6.0
    _, tangent = func.jvp(lambda x: x * func.jvp(lambda y: x * y, (x,), (cr.tensor(1.0),))[1],
                          (cr.tensor(3.0),), (cr.tensor(1.0),))
    assert tangent.item() == 6.0


def test_vmap_per_sample_gradients_in_dims_and_out_dims():
    f = FUNCTIONS["two_args"]
    (xs, txs), (w, tw) = both(RNG.standard_normal((5, 3))), both(W)
    close(func.vmap(func.grad(lambda x, w: f(cr, x, w)), in_dims=(0, None))(xs, w),
          tf.vmap(tf.grad(lambda x, w: f(torch, x, w)), in_dims=(0, None))(txs, tw))
    close(func.vmap(lambda x: (x * 2, x.sum()), in_dims=1, out_dims=(1, 0))(cr.tensor(Y)),
          tf.vmap(lambda x: (x * 2, x.sum()), in_dims=1, out_dims=(1, 0))(torch.tensor(Y)))
    close(func.vmap(func.vmap(lambda a, b: a * b))(cr.tensor(Y), cr.tensor(Y)),
          tf.vmap(tf.vmap(lambda a, b: a * b))(torch.tensor(Y), torch.tensor(Y)))
    close(func.jacrev(func.vmap(lambda x: cr.sin(x) * x))(cr.tensor(X)),
          tf.jacrev(tf.vmap(lambda x: torch.sin(x) * x))(torch.tensor(X)))


def test_vmap_refuses_what_it_cannot_batch():
    with pytest.raises(ShapeError, match="different sizes"):
        func.vmap(lambda a, b: a + b)(cr.zeros(3), cr.zeros(4))
    with pytest.raises(ArgumentError, match="at least one input"):
        func.vmap(lambda a: a, in_dims=None)(cr.zeros(3))
    with pytest.raises(ArgumentError, match="must return Tensors"):
        func.vmap(lambda a: 3.0)(cr.zeros(3))
    same = func.vmap(lambda a: a + cr.rand(()), randomness="same")(cr.zeros(4))
    assert len(set(same.tolist())) == 1


def test_transforms_compose_with_backward():
    x = cr.tensor(X, requires_grad=True)
    gradient = func.grad(lambda t: (t ** 3).sum())(x)          # 3 x^2, still a function of x
    gradient.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * X)
    w = cr.tensor(W, requires_grad=True)                        # a parameter the function closes over
    per_input = func.grad(lambda t: (w @ t).tanh().sum())(cr.tensor(X))
    per_input.sum().backward()
    tw = torch.tensor(W, requires_grad=True)
    torch.func.grad(lambda t: (tw @ t).tanh().sum())(torch.tensor(X)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


def test_forward_ad_names_levels_and_errors():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with fwAD.dual_level() as level:
        assert level == 0
        dual = fwAD.make_dual(x, cr.tensor([1.0, 0.0], dtype=cr.float64))
        y = (dual * dual).sum()
        primal, tangent = fwAD.unpack_dual(y)
        assert tangent.item() == 2.0 and fwAD.unpack_dual(x).tangent is None
        primal.backward()                                       # the dual stays in the reverse graph
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
        with pytest.raises(ShapeError, match="tangent's shape"):
            fwAD.make_dual(x, cr.zeros(3))
        with pytest.raises(cr.DTypeError, match="floating-point"):
            fwAD.make_dual(cr.tensor([1, 2]), cr.tensor([1, 2]))
    assert fwAD.unpack_dual.__name__ and y._tangents in (None, {})   # the level's tangents are gone
    with pytest.raises(GraphError, match="no dual level is active"):
        fwAD.make_dual(x, x)
    with pytest.raises(GraphError, match="no dual level is active"):
        fwAD.exit_dual_level()


def test_nested_dual_levels_give_second_derivatives():
    x = cr.tensor(0.5, dtype=cr.float64)
    with fwAD.dual_level():
        outer = fwAD.make_dual(x, cr.tensor(1.0, dtype=cr.float64))
        with fwAD.dual_level():
            inner = fwAD.make_dual(outer, cr.tensor(1.0, dtype=cr.float64))
            first = fwAD.unpack_dual(cr.sin(inner) * inner).tangent       # cos x * x + sin x
        second = fwAD.unpack_dual(first, level=0).tangent                  # -sin x * x + 2 cos x
    assert np.isclose(second.item(), -np.sin(0.5) * 0.5 + 2 * np.cos(0.5))


def test_forward_mode_keeps_dtypes_and_costs_nothing_when_off():
    x = cr.tensor([1.0, 2.0])                                   # float32
    _, tangent = func.jvp(lambda t: t.double() * 2 + 1, (x,), (cr.ones(2),))
    assert tangent.dtype == cr.float64 and tangent.tolist() == [2.0, 2.0]
    _, tangent = func.jvp(lambda t: t + cr.tensor([1.0, 1.0], dtype=cr.float64), (x,), (cr.ones(2),))
    assert tangent.dtype == cr.float64 and tangent.tolist() == [1.0, 1.0]   # promoted, tangent kept
    assert (x * 2)._extra is None                               # no level: nothing recorded


def test_argument_errors_name_the_transform():
    with pytest.raises(ShapeError, match="one number"):
        func.grad(lambda t: t * 2)(cr.zeros(3))
    with pytest.raises(ArgumentError, match="argnums 2 is out of range"):
        func.grad(lambda t: t.sum(), argnums=2)(cr.zeros(3))
    with pytest.raises(cr.DTypeError, match="floating-point"):
        func.jacrev(lambda t: t * 2)(cr.tensor([1, 2]))
    with pytest.raises(ArgumentError, match="must be tuples"):
        func.jvp(lambda t: t, cr.zeros(2), cr.zeros(2))
    with pytest.raises(ArgumentError, match="pair"):
        func.grad(lambda t: t.sum(), has_aux=True)(cr.zeros(2))
    assert func.grad(lambda t: cr.tensor(1.0))(cr.zeros(2)).tolist() == [0.0, 0.0]   # unused: zeros


def test_levels_belong_to_their_thread_and_close_on_errors():
    import threading

    from chainrule.primitive import _ForwardMode

    seen = []
    with fwAD.dual_level():
        dual = fwAD.make_dual(cr.tensor([1.0]), cr.tensor([1.0]))
        worker = threading.Thread(target=lambda: seen.append((dual * 2)._tangents))
        worker.start()
        worker.join()
        assert fwAD.unpack_dual(dual * 2).tangent.tolist() == [2.0]
    assert seen == [None]                   # the other thread has no level open
    with pytest.raises(ShapeError):
        with fwAD.dual_level():
            fwAD.make_dual(cr.zeros(2), cr.zeros(3))
    assert _ForwardMode.open == 0
