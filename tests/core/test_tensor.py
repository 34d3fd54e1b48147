"""Tensor creation, facts, repr and conversions."""

import numpy as np
import pytest

import chainrule as cr


def test_inference_follows_pytorch():
    assert cr.tensor([1.0, 2.0]).dtype == cr.float32
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor([True]).dtype == cr.bool
    assert cr.tensor(np.zeros(2)).dtype == cr.float64  # an ndarray keeps its dtype
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == cr.float64


def test_tensor_copies_but_from_numpy_shares():
    array = np.zeros(3, dtype=np.float32)
    copied, shared = cr.tensor(array), cr.from_numpy(array)
    array[0] = 5
    assert copied.numpy()[0] == 0 and shared.numpy()[0] == 5


def test_creation_functions():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).dtype == cr.float32
    assert cr.ones(4).numpy().sum() == 4
    assert cr.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert cr.arange(5).dtype == cr.int64 and cr.arange(0, 1, 0.25).dtype == cr.float32
    assert cr.eye(3).numpy().trace() == 3
    assert cr.zeros_like(cr.ones(2, dtype=cr.float64)).dtype == cr.float64
    assert cr.ones_like(cr.zeros(3)).numpy().tolist() == [1, 1, 1]
    assert cr.randn(2, 3, requires_grad=True).requires_grad


def test_manual_seed_reproduces():
    cr.manual_seed(42)
    a = cr.randn(5).numpy().copy()
    cr.manual_seed(42)
    np.testing.assert_array_equal(a, cr.randn(5).numpy())
    assert cr.rand(1000).numpy().min() >= 0


def test_facts_and_conversions():
    t = cr.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.size(1) == 2 and t.numel() == 4
    assert t.T.numpy().tolist() == [[1.5, 3.0], [2.0, 4.0]]
    assert t.sum().item() == 10.5 and float(t[0, 0]) == 1.5
    assert t.long().dtype == cr.int64 and t.double().dtype == cr.float64
    assert t.to(cr.float64).dtype == cr.float64
    assert t.to("cpu") is t and t.numpy() is t.data.numpy()
    assert len(t) == 2 and [row.shape for row in t] == [(2,), (2,)]


def test_repr_like_pytorch():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1.5, 2.0], requires_grad=True)) == "tensor([1.5000, 2.0000], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(cr.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(cr.tensor([1.0], dtype=cr.float64))
    assert repr(cr.tensor(16.0)) == "tensor(16.)"


def test_detach_and_requires_grad_():
    x = cr.tensor([1.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    z = cr.tensor([1.0]).requires_grad_()
    assert z.requires_grad


def test_numpy_operand_on_the_left_keeps_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.float32(3.0) * x + np.array([1.0], dtype=np.float32)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_index_with_float_tensor_is_refused():
    with pytest.raises(cr.DTypeError, match="integer or bool"):
        cr.ones(3)[cr.tensor([0.0])]


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="one element"):
        cr.ones(2).item()


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    view = p.data
    assert isinstance(view, cr.Tensor) and not view.requires_grad and view.grad_fn is None
    assert np.shares_memory(view.numpy(), p.numpy())
    (p * p).sum().backward()
    p.data += -0.5 * p.grad            # micrograd's and makemore's update
    np.testing.assert_allclose(p.numpy(), [0.0, 0.0])
    p.data = cr.tensor([5.0, 6.0, 7.0])  # replaces the values (shape may change, as in PyTorch)
    assert p.shape == (3,) and p.requires_grad
    p.data.zero_()
    assert p.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="data must be set to a Tensor"):
        p.data = [1.0]


def test_grad_assignment_is_checked_like_pytorch():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="assigned grad must be a Tensor or None, got float"):
        a.grad = 0.0
    with pytest.raises(cr.ShapeError, match=r"shape \(3,\).*shape \(2,\)"):
        a.grad = cr.zeros(3)
    with pytest.raises(cr.DTypeError, match="float64.*float32"):
        a.grad = cr.zeros(2, dtype=cr.float64)
    a.grad = cr.ones(2)
    (a * 2).sum().backward()           # accumulates into the assigned gradient
    assert a.grad.tolist() == [3.0, 3.0]
    a.grad = None
    assert a.grad is None


def test_format_spec_formats_zero_dim_tensors():
    loss = cr.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{cr.tensor(3):>3d}" == "  3"
    assert f"{cr.tensor([1.0, 2.0])}" == repr(cr.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="needs a 0-d tensor"):
        f"{cr.tensor([1.0, 2.0]):.2f}"
