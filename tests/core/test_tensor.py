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
    assert copied.data[0] == 0 and shared.data[0] == 5


def test_creation_functions():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).dtype == cr.float32
    assert cr.ones(4).data.sum() == 4
    assert cr.full((2, 2), 7.0).data.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert cr.arange(5).dtype == cr.int64 and cr.arange(0, 1, 0.25).dtype == cr.float32
    assert cr.eye(3).data.trace() == 3
    assert cr.zeros_like(cr.ones(2, dtype=cr.float64)).dtype == cr.float64
    assert cr.ones_like(cr.zeros(3)).data.tolist() == [1, 1, 1]
    assert cr.randn(2, 3, requires_grad=True).requires_grad


def test_manual_seed_reproduces():
    cr.manual_seed(42)
    a = cr.randn(5).data.copy()
    cr.manual_seed(42)
    np.testing.assert_array_equal(a, cr.randn(5).data)
    assert cr.rand(1000).data.min() >= 0


def test_facts_and_conversions():
    t = cr.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.size(1) == 2 and t.numel() == 4
    assert t.T.data.tolist() == [[1.5, 3.0], [2.0, 4.0]]
    assert t.sum().item() == 10.5 and float(t[0, 0]) == 1.5
    assert t.long().dtype == cr.int64 and t.double().dtype == cr.float64
    assert t.to(cr.float64).dtype == cr.float64
    assert t.to("cpu") is t and t.numpy() is t.data
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
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_index_with_float_tensor_is_refused():
    with pytest.raises(cr.DTypeError, match="integer or bool"):
        cr.ones(3)[cr.tensor([0.0])]


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="one element"):
        cr.ones(2).item()
