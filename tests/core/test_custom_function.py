"""Custom autograd Functions (torch.autograd.Function's API), compared with PyTorch 2.13."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _legendre(lib):
    """The PyTorch tutorial's example, word for word but for the library."""

    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def _fit(lib, steps=40):
    """The tutorial's training loop: y = a + b P3(c + d x) fitted to sin(x)."""
    x = lib.linspace(-np.pi, np.pi, 200, dtype=lib.float64)
    y = lib.sin(x)
    a, b, c, d = (lib.full((), value, dtype=lib.float64, requires_grad=True)
                  for value in (0.0, -1.0, 0.0, 0.3))
    P3 = _legendre(lib).apply
    losses = []
    for _ in range(steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p -= 5e-6 * p.grad
                p.grad = None
    return np.array(losses), [p.item() for p in (a, b, c, d)]


def test_the_tutorials_legendre_fit_follows_torch_step_for_step():
    ours, theirs = _fit(cr), _fit(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12)   # a, c stay ~0: rounding noise
    assert ours[0][-1] < ours[0][0]


def test_custom_function_is_named_by_its_class_in_grad_fn_explain_and_graphs():
    P3 = _legendre(cr)
    x = cr.tensor(0.5, requires_grad=True, name="x")
    y = P3.apply(x * 2)
    assert y.grad_fn.name == "LegendrePolynomial3Backward"
    text = cr.explain(y)
    assert "LegendrePolynomial3(mul)" in text and "custom Function" in text and "dL/dx = 12" in text
    from chainrule.insight import graph
    assert "LegendrePolynomial3" in graph.to_dot(y)


def test_double_backward_through_a_custom_function_written_with_ops():
    results = []
    for lib, grad in ((cr, cr.grad), (torch, torch.autograd.grad)):
        c = lib.tensor([0.3, -0.2], dtype=lib.float64, requires_grad=True)
        (g,) = grad(_legendre(lib).apply(c * 2).sum(), [c], create_graph=True)
        g.sum().backward()
        results.append((np.asarray(g.detach().numpy()), np.asarray(c.grad.detach().numpy())))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def _scaled_split(lib):
    class ScaledSplit(lib.autograd.Function):
        """Two outputs, a non-tensor argument, an index output marked non-differentiable."""

        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            ctx.save_for_backward(x)
            index = x.argmax()
            ctx.mark_non_differentiable(index)
            return x * scale, (x * x).sum(), index

        @staticmethod
        def backward(ctx, grad_scaled, grad_square, grad_index):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return grad_scaled * ctx.scale + grad_square * 2 * x, None

    return ScaledSplit


def test_several_outputs_non_tensor_arguments_and_non_differentiable_outputs():
    results = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        scaled, square, index = _scaled_split(lib).apply(x, 3.0)
        assert not index.requires_grad and index.item() == 0
        (scaled.sum() * 2 + square).backward()
        results.append(np.asarray(x.grad.numpy()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_new_style_setup_context_and_unused_outputs():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3, x * 0

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad_cube, grad_zero):
            (x,) = ctx.saved_tensors
            assert grad_zero is not None and not grad_zero.numpy().any()   # materialised zeros
            return grad_cube * 3 * x * x

    x = cr.tensor([2.0], requires_grad=True)
    cube, _ = Cube.apply(x)
    cube.sum().backward()
    assert x.grad.tolist() == [12.0]


def test_saved_tensors_changed_in_place_and_bad_backward_results_are_clear_errors():
    P3 = _legendre(cr)
    x = cr.tensor([0.5], requires_grad=True)
    h = x * 1
    y = P3.apply(h)
    with cr.no_grad():
        h.add_(1.0)
    with pytest.raises(cr.GraphError, match="modified by an in-place operation"):
        y.backward()

    class WrongShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.sum().reshape(1, 1)

    with pytest.raises(cr.ShapeError, match=r"WrongShape.backward returned a gradient of shape \(1, 1\)"):
        WrongShape.apply(cr.ones(3, requires_grad=True)).sum().backward()
