"""dtype promotion as PyTorch's, checked against torch over every pair of operand kinds."""

import itertools

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, 2.5]


def _make(lib, dtype, zero_dim):
    value = 1 if dtype != "bool" else True
    data = value if zero_dim else [value, value]
    return lib.tensor(data, dtype=getattr(lib, dtype))


def _name(dtype) -> str:
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("left,right", list(itertools.product(DTYPES, DTYPES)))
def test_tensor_pairs_promote_as_torch(left, right):
    for zero_left, zero_right in [(False, False), (True, False), (False, True), (True, True)]:
        ours = _make(cr, left, zero_left) * _make(cr, right, zero_right)
        theirs = _make(torch, left, zero_left) * _make(torch, right, zero_right)
        assert _name(ours.dtype) == _name(theirs.dtype), (left, zero_left, right, zero_right)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS)
def test_python_scalars_never_upcast(dtype, scalar):
    for zero_dim in (False, True):
        ours, theirs = _make(cr, dtype, zero_dim) + scalar, _make(torch, dtype, zero_dim) + scalar
        assert _name(ours.dtype) == _name(theirs.dtype), (dtype, scalar, zero_dim)


@pytest.mark.parametrize("op", ["exp", "sqrt", "sigmoid", "tanh", "log", "sin"])
def test_float_functions_of_integers_give_the_default_float(op):
    values = [1, 2, 3]
    ours, theirs = getattr(cr.tensor(values), op)(), getattr(torch.tensor(values), op)()
    assert ours.dtype == cr.float32 and _name(theirs.dtype) == "float32"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_powers_clamp_division_and_rounding_division_follow_torch():
    i, ti = cr.tensor([-3, 1, 4]), torch.tensor([-3, 1, 4])
    for ours, theirs in [(i ** 0.5, ti ** 0.5), (i ** 2, ti ** 2), (i.clamp(0.5, 1.5), ti.clamp(0.5, 1.5)),
                         (i / 2, ti / 2), (i // 2, ti // 2), (i % 3, ti % 3), (-7.5 // cr.tensor([2.0]),
                                                                               -7.5 // torch.tensor([2.0])),
                         (cr.tensor([-7.5, 7.5]) % 2, torch.tensor([-7.5, 7.5]) % 2),
                         (cr.fmod(cr.tensor([-7.5, 7.5]), 2), torch.fmod(torch.tensor([-7.5, 7.5]), 2)),
                         (cr.div(i, 2, rounding_mode="trunc"), torch.div(ti, 2, rounding_mode="trunc")),
                         (cr.div(i, 2, rounding_mode="floor"), torch.div(ti, 2, rounding_mode="floor"))]:
        assert _name(ours.dtype) == _name(theirs.dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), equal_nan=True)
    with pytest.raises(ValueError, match="negative integer powers"):
        i ** -1


def test_remainder_fmod_and_zero_gradient_rounding_are_differentiable_as_torch():
    values = np.array([-2.7, -0.4, 1.6, 3.5])
    x = cr.tensor(values, dtype=cr.float64, requires_grad=True)
    divisor = cr.tensor([1.5, -2.0, 0.7, 1.1], dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda a, b: cr.remainder(a, b) + cr.fmod(a, b), [x, divisor])
    tx = torch.tensor(values, requires_grad=True)
    (x.round() + x.floor() * 2 + x.ceil() + x.trunc() + x.sign()).sum().backward()
    (tx.round() + tx.floor() * 2 + tx.ceil() + tx.trunc() + tx.sign()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    with pytest.raises(cr.GraphError, match="floor_divide"):
        (x // 2).sum().backward()


def test_zero_dim_gradient_flows_through_the_promoting_cast():
    scale = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    vector = cr.ones(3, requires_grad=True)
    out = scale * vector
    assert out.dtype == cr.float32
    out.sum().backward()
    assert scale.grad.dtype == cr.float64 and scale.grad.item() == 3.0
    assert vector.grad.tolist() == [2.0, 2.0, 2.0]


def test_matmul_refuses_mixed_dtypes_and_names_shapes_as_torch():
    with pytest.raises(cr.DTypeError, match="expected m1 and m2 to have the same dtype"):
        cr.tensor([[1, 2]]) @ cr.ones(2, 1)
    with pytest.raises(cr.ShapeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x4\)"):
        cr.ones(3, 4) @ cr.ones(3, 4)
    with pytest.raises(cr.ShapeError, match="batch dimensions"):
        cr.ones(2, 3, 4) @ cr.ones(3, 4, 5)


def test_data_conversion_refuses_overflow_and_ragged_lists_in_one_line():
    with pytest.raises(OverflowError, match="does not fit int64"):
        cr.tensor(2 ** 63)
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\)"):
        cr.tensor([[1, 2], [3]])
    assert cr.tensor(2 ** 63 - 1).item() == 2 ** 63 - 1
    assert (cr.tensor([1, 2], dtype=cr.int32) + 2 ** 40).dtype == cr.int32   # wraps, as in PyTorch


def test_default_dtype_can_be_float64():
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.tensor([1.5]).dtype == cr.float64 and cr.zeros(2).dtype == cr.float64
        assert (cr.tensor([1, 2]) * 0.5).dtype == cr.float64 and cr.get_default_dtype() == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)
    with pytest.raises(TypeError, match="floating-point"):
        cr.set_default_dtype(cr.int64)
