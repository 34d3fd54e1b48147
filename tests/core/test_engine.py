"""The engine: the lesson's example, accumulation, deep graphs, freeing, modes, hooks, higher order."""

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr


def test_lesson_worked_example():
    w = cr.tensor(2.0, requires_grad=True)
    x, y = cr.tensor(3.0), cr.tensor(10.0)
    wx = w * x
    diff = wx - y
    loss = diff ** 2
    for t in (wx, diff):
        t.retain_grad()
    loss.backward()
    assert (wx.item(), diff.item(), loss.item()) == (6.0, -4.0, 16.0)
    assert diff.grad.item() == -8.0 and wx.grad.item() == -8.0
    assert w.grad.item() == -24.0


def test_value_used_twice_accumulates():
    x = cr.tensor(3.0, requires_grad=True)
    a = x * x          # non-leaf reused below
    b = a + a * x      # d/dx (x^2 + x^3) = 2x + 3x^2 = 33
    b.backward()
    assert x.grad.item() == 33.0


def test_diamond_reuse_of_non_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    out = (h * 2 + h.sin() + h ** 2).sum()
    out.backward()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), (2 + np.cos(e) + 2 * e) * e, rtol=1e-6)


def test_gradients_accumulate_across_backward_calls_and_zero():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_leaf_grads_never_share_memory():
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10  # in-place clipping of one grad must not touch the other
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    assert a.grad.numpy().flags.writeable and b.grad.numpy().flags.writeable


def test_non_leaf_grad_not_kept_unless_asked():
    x = cr.tensor([1.0], requires_grad=True)
    h = x * 2
    (h * 3).sum().backward()
    assert h.grad is None and x.grad.item() == 6.0


def test_deep_chain_100k_nodes_no_recursion_error():
    x = cr.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_is_freed_after_backward():
    x = cr.tensor(np.ones((64, 64)), requires_grad=True)
    hidden = (x @ x).tanh()
    probe = weakref.ref(hidden.numpy())
    loss = (hidden * 2).sum()
    del hidden
    gc.collect()
    assert probe() is not None  # alive: backward needs it
    loss.backward()
    gc.collect()
    assert probe() is None  # released once backward is done


def test_no_reference_cycles_keep_graphs_alive():
    x = cr.tensor(np.ones(8), requires_grad=True)
    hidden = x * 2
    probe = weakref.ref(hidden.numpy())
    y = hidden.exp().sum()
    del hidden, y
    assert probe() is None  # freed by reference counting alone, no gc needed


def test_repeated_training_steps_do_not_grow_memory():
    import tracemalloc

    w = cr.randn(32, 32, requires_grad=True)
    x = cr.randn(16, 32)

    def step():
        loss = ((x @ w).relu() @ w).tanh().mean()
        loss.backward()
        with cr.no_grad():
            w.data -= 0.01 * w.grad.numpy()
        w.grad = None

    for _ in range(50):
        step()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        step()
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert grown < 200_000, f"memory grew by {grown} bytes over 1000 steps"


def test_second_backward_through_freed_graph_is_an_error():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(cr.GraphError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_non_scalar_backward_needs_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(cr.GraphError, match=r"shape \(2,\) needs a gradient"):
        y.backward()
    y.backward(cr.tensor([1.0, 0.5]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0])


def test_backward_gradient_shape_mismatch():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(cr.tensor([1.0, 1.0, 1.0]))


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(cr.DTypeError, match="int64"):
        cr.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(cr.DTypeError):
        cr.arange(3).requires_grad_()


def test_mismatched_shapes_name_op_and_shapes():
    a, b = cr.ones(2, 3), cr.ones(4, 5)
    with pytest.raises(cr.ShapeError, match=r"add.*\(2, 3\) float32, \(4, 5\) float32"):
        a + b
    with pytest.raises(cr.ShapeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        a @ b
    with pytest.raises(cr.ShapeError, match="reshape"):
        a.reshape(5)
    with pytest.raises(IndexError, match="index"):
        a[5]


def test_backward_on_tensor_without_graph_is_clear():
    with pytest.raises(cr.GraphError, match="does not require grad"):
        cr.tensor(1.0).backward()


def test_no_grad_records_nothing():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2
        with cr.enable_grad():
            z = x * 3
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad


def test_inplace_change_of_saved_value_is_detected():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = cr.tensor([3.0, 4.0])
    y = (x * a).sum()
    a.add_(1.0)
    with pytest.raises(cr.GraphError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_is_refused_outside_no_grad():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(cr.GraphError, match="no_grad"):
        w -= 0.1
    with cr.no_grad():
        w -= 0.5
    assert w.item() == 0.5 and w.is_leaf


def test_augmented_assignment_on_non_leaf_is_recorded_in_place():
    x = cr.tensor([2.0], requires_grad=True)
    y = x * 1.0
    same = y
    y += x * x
    assert y is same and y.grad_fn.name == "AddBackward"
    y.backward()
    assert x.grad.item() == 5.0


def test_hooks_see_and_replace_gradients():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 3
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_array_equal(seen[0], [30.0, 30.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])


def test_grad_function_does_not_touch_dot_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    (gx, gh) = cr.grad(h.sum() * 2, [x, h])
    np.testing.assert_array_equal(gx.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(gh.numpy(), [2.0, 2.0])
    assert x.grad is None


def test_grad_unused_input():
    x, z = cr.tensor(1.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    with pytest.raises(cr.GraphError, match="not used"):
        cr.grad(x * 2, [x, z])
    assert cr.grad(x * 2, [x, z], allow_unused=True)[1] is None


def test_higher_order_closed_forms():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    (d1,) = cr.grad((x ** 3).sum(), x, create_graph=True)
    (d2,) = cr.grad(d1.sum(), x, create_graph=True)
    (d3,) = cr.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(d2.numpy(), 6 * x.numpy())
    np.testing.assert_allclose(d3.numpy(), [6.0, 6.0, 6.0])
    # d2/dx2 sin = -sin, d2/dx2 exp = exp
    (g,) = cr.grad(x.sin().sum(), x, create_graph=True)
    (h,) = cr.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), -np.sin(x.numpy()))


def test_hessian_vector_product():
    """Hv for f(x) = 1/2 x^T A x is A v (A symmetric)."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal((4, 4))
    a = cr.tensor(m + m.T, dtype=cr.float64)
    x = cr.tensor(rng.standard_normal(4), dtype=cr.float64, requires_grad=True)
    v = cr.tensor(rng.standard_normal(4), dtype=cr.float64)
    f = 0.5 * (x @ (a @ x))
    (g,) = cr.grad(f, x, create_graph=True)
    (hv,) = cr.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), (m + m.T) @ v.numpy(), rtol=1e-12)


def test_backward_create_graph_keeps_grad_differentiable():
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.item() == 27.0
    x.grad = None
    first.backward()
    assert x.grad.item() == 18.0


def test_detect_anomaly_names_the_op():
    x = cr.tensor([-1.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        with pytest.raises(cr.AnomalyError, match="forward of 'log'"):
            x.log()
        y = (x * 0).sqrt()  # sqrt(0) is fine forward, but its slope is infinite
        with pytest.raises(cr.AnomalyError, match="backward of 'sqrt'"):
            y.sum().backward()
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().numpy()[0])  # outside the context NaN passes silently, as in PyTorch


def test_dtype_policy():
    x = cr.tensor([1.0, 2.0])
    assert x.dtype == cr.float32
    assert (x * 2.5).dtype == cr.float32 and (2 ** x).dtype == cr.float32
    assert (x + cr.tensor([1, 2])).dtype == cr.float32
    assert (cr.tensor([1, 2]) * 0.5).dtype == cr.float32
    assert (cr.tensor([3, 4]) / cr.tensor([2, 2])).dtype == cr.float32
    assert (x.double() + x).dtype == cr.float64
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w.double() * 3).sum().backward()
    assert w.grad.dtype == cr.float32


def test_comparisons_and_argmax_have_no_grad():
    x = cr.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    for t in (x > 2, x == x, x.argmax(1), x.argmin(), x.long()):
        assert not t.requires_grad
    assert (x > 2).dtype == cr.bool
    np.testing.assert_array_equal(x.argmax(1).numpy(), [1, 0])
    assert x.argmax().item() == 1


def test_post_accumulate_grad_hooks_fire_during_the_walk_as_each_leaf_completes():
    first = cr.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)
    second = cr.tensor([[1.5], [-0.5]], requires_grad=True)
    shared = cr.tensor([0.3, 0.7], requires_grad=True)     # used twice: final only after both uses
    seen = []

    def hook(tensor):
        seen.append((tensor.shape, None if first.grad is None else "first ready"))

    handles = [t.register_post_accumulate_grad_hook(hook) for t in (first, second, shared)]
    x = cr.tensor([[1.0, 2.0], [3.0, -1.0]])
    hidden = ((x + shared) @ first).tanh() * shared
    hidden.matmul(second).sum().backward()
    assert [shape for shape, _ in seen] == [(2, 1), (2, 2), (2,)]   # in the order each completes
    assert seen[0][1] is None, "the first layer's gradient was not yet there when the last one's was"
    assert all(t.grad is not None for t in (first, second, shared))
    expected = [t.grad.numpy().copy() for t in (first, second, shared)]
    for handle in handles:
        handle.remove()
    for t in (first, second, shared):
        t.grad = None
    hidden = ((x + shared) @ first).tanh() * shared
    hidden.matmul(second).sum().backward()                   # the plain path gives the same sums
    for t, grad in zip((first, second, shared), expected):
        np.testing.assert_array_equal(t.grad.numpy(), grad)
    assert len(seen) == 3


def test_post_accumulate_hooks_only_on_leaves_and_handles_remove_tensor_hooks():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(cr.GraphError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 3).sum().backward()
    handle.remove()
    (x * 3).sum().backward()
    assert calls == [1] and x.grad.tolist() == [6.0, 6.0]
