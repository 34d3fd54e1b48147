"""Elementwise functions, scans and products: float64 gradchecks (second order where marked) and
forward values + gradients against torch 2.13, broadcasting, negative dims, keepdim, zeros and
empty dims included."""

import numpy as np
import pytest
from tests.core.ops_surface_harness import case, gradcheck_case, second_order_case, torch_case, uniform

import chainrule as cr

A, B, C = uniform(3, 4, seed=1), uniform(4, seed=2), uniform(2, 1, 4, seed=3)
POS = uniform(3, 4, low=0.5, high=2.0, seed=4)
UNIT = uniform(3, 4, low=-0.9, high=0.9, seed=5)
WITH_ZEROS = np.array([[0.5, 0.0, 1.5, -2.0], [1.2, -0.7, 0.9, 0.0], [0.0, 2.0, 0.0, 1.1]])
EMPTY = np.zeros((0, 3))

CASES = [
    case("log10", lambda M, x: M.log10(x), POS, second_order=True),
    case("log2", lambda M, x: x.log2(), POS),
    case("exp2", lambda M, x: M.exp2(x), A, second_order=True),
    case("expm1", lambda M, x: x.expm1(), A * 1e-3),
    case("rsqrt", lambda M, x: M.rsqrt(x), POS, second_order=True),
    case("reciprocal", lambda M, x: x.reciprocal(), POS, second_order=True),
    case("square", lambda M, x: M.square(x), A, second_order=True),
    case("tan", lambda M, x: M.tan(x), A, second_order=True),
    case("asin", lambda M, x: M.asin(x), UNIT, second_order=True),
    case("acos", lambda M, x: x.acos(), UNIT),
    case("atan", lambda M, x: M.atan(x), A * 3, second_order=True),
    case("arc_aliases", lambda M, x: M.arcsin(x) + M.arccos(x) * M.arctan(x), UNIT),
    case("sinh_cosh", lambda M, x: M.sinh(x) * x.cosh(), A, second_order=True),
    case("asinh", lambda M, x: M.asinh(x * 3), A),
    case("acosh", lambda M, x: M.acosh(x + 1.5), POS),
    case("atanh", lambda M, x: x.atanh(), UNIT, second_order=True),
    case("frac", lambda M, x: M.frac(x * 3.7), A),
    case("atan2_bcast", lambda M, a, b: M.atan2(a, b), A, B, second_order=True),
    case("arctan2_method", lambda M, a, b: a.arctan2(b), C, A),
    case("hypot_bcast", lambda M, a, b: M.hypot(a, b), A, C, second_order=True),
    case("logaddexp", lambda M, a, b: M.logaddexp(a * 30, b * 30), A, B, second_order=True),
    case("logaddexp2", lambda M, a, b: a.logaddexp2(b), A, C),
    case("lerp_tensor_weight", lambda M, s, e, w: M.lerp(s, e, w), A, B, C, second_order=True),
    case("lerp_scalar_weight", lambda M, s, e: s.lerp(e, 0.3) + M.lerp(s, e, 0.8), A, B),
    case("xlogy", lambda M, x, z: M.xlogy(x, z), A, POS, second_order=True),
    case("xlogy_zero_x", lambda M, x, z: M.xlogy(x, z), np.where(A > 0.2, A, 0.0), POS),
    case("xlogy_scalar", lambda M, z: M.xlogy(2.0, z) + z.xlogy(z), POS),
    case("remainder_bcast", lambda M, a, b: M.remainder(a * 5, b + 2) + (a * 3) % 0.7, A, B),
    case("fmod", lambda M, a, b: M.fmod(a * 5, b + 2), A, B),
    case("nan_to_num", lambda M, x: M.nan_to_num(M.log(x), nan=1.5, posinf=2.0, neginf=-3.0), A),
    case("nan_to_num_default", lambda M, x: M.nan_to_num(x / (x * 0)) + x, np.array([1.0, 0.0, -2.0])),
    case("clamp_min_max", lambda M, x: M.clamp_min(x, -0.2) * x.clamp_max(0.3), A),
    case("clamp_min_tensor", lambda M, x, lo: M.clamp_min(x, lo), A, B),
    case("addcmul_addcdiv", lambda M, x, a, b: M.addcmul(x, a, b, value=0.5) + x.addcdiv(a, b + 3, value=-2),
         A, B, C),
    case("deg2rad", lambda M, x: M.deg2rad(x * 180) + M.rad2deg(x), A),
    # scans
    case("cumsum", lambda M, x: M.cumsum(x, 1), A, second_order=True),
    case("cumsum_neg_dim", lambda M, x: x.cumsum(-3), C),
    case("cumsum_empty", lambda M, x: M.cumsum(x, 0), EMPTY),
    case("cumsum_0d", lambda M, x: M.cumsum(x, 0), np.array(1.5)),
    case("cumprod", lambda M, x: M.cumprod(x, 1), A, second_order=True),
    case("cumprod_dim0", lambda M, x: x.cumprod(0), C),
    case("cumprod_zeros", lambda M, x: M.cumprod(x, 1), WITH_ZEROS, second_order=True),
    case("cumprod_zeros_dim0", lambda M, x: M.cumprod(x, -2), WITH_ZEROS, second_order=True),
    case("cumprod_many_zeros", lambda M, x: M.cumprod(x, 1), np.array([[0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.5]]),
         second_order=True),
    case("cumprod_empty", lambda M, x: M.cumprod(x, 1), EMPTY),
    case("logcumsumexp", lambda M, x: M.logcumsumexp(x * 20, 1), A, second_order=True),
    case("logcumsumexp_wide", lambda M, x: x.logcumsumexp(0),
         np.array([[-800.0, 3.0], [0.0, 700.0], [-1.0, 2.0]])),
    case("cummax", lambda M, x: M.cummax(x, 1).values, A),
    case("cummin_neg", lambda M, x: x.cummin(-1)[0], C),
    case("cummax_indices", lambda M, x: M.cummax(x, 0), A),
    case("cummax_ties", lambda M, x: M.cummax(x * 0 + M.tensor([1.0, 3.0, 3.0, 2.0, 5.0, 5.0],
                                                                 dtype=M.float64), 0), uniform(6)),
    case("prod_all", lambda M, x: M.prod(x), A, second_order=True),
    case("prod_dim", lambda M, x: x.prod(1), A, second_order=True),
    case("prod_dim_keep", lambda M, x: M.prod(x, -1, keepdim=True), C),
    case("prod_zeros_dim", lambda M, x: M.prod(x, 1), WITH_ZEROS, second_order=True),
    case("prod_zeros_dim0", lambda M, x: x.prod(0), WITH_ZEROS),
    case("prod_one_zero_all", lambda M, x: M.prod(x), np.array([[1.5, 0.0], [2.0, -0.5]]), second_order=True),
    case("prod_two_zeros_all", lambda M, x: M.prod(x), np.array([[1.5, 0.0], [0.0, -0.5]])),
    case("prod_empty", lambda M, x: M.prod(x, 0), EMPTY),
    case("prod_0d", lambda M, x: M.prod(x, 0) + M.prod(x), np.array(2.5)),
]


FIRST = [c for c in CASES if c[3]["finite_differences"]]
SECOND = [c for c in CASES if c[3]["second_order"]]


@pytest.mark.parametrize("name,function,arrays,flags", FIRST, ids=[c[0] for c in FIRST])
def test_gradcheck(name, function, arrays, flags):
    gradcheck_case(function, arrays)


@pytest.mark.parametrize("name,function,arrays,flags", SECOND, ids=[c[0] for c in SECOND])
def test_second_order_gradcheck(name, function, arrays, flags):
    second_order_case(function, arrays)


@pytest.mark.parametrize("name,function,arrays,flags", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, function, arrays, flags):
    torch = pytest.importorskip("torch")
    torch_case(torch, function, arrays)


def test_second_derivatives_of_scans_match_torch():
    """Away from zeros (at exact zeros PyTorch's double backward of cumprod is NaN or treats the
    entries after the zero as constant; the gradchecks above check ours there)."""
    torch = pytest.importorskip("torch")
    data = np.array([[0.5, -0.2, 1.5, -2.0], [1.2, -0.7, 0.9, 0.3]])
    results = []
    for M, grad in ((cr, cr.grad), (torch, torch.autograd.grad)):
        x = M.tensor(data, dtype=M.float64, requires_grad=True)
        y = (M.cumprod(x, 1) * M.logcumsumexp(x, 1)).sum() + (M.prod(x, 1) ** 2).sum()
        (g,) = grad(y, x, create_graph=True)
        (h,) = grad((g * g).sum(), x)
        results.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["log10", "sqrt_like", "exp2", "square", "reciprocal", "tan"])
def test_integer_inputs_promote_as_torch(name):
    torch = pytest.importorskip("torch")
    function = {"sqrt_like": "rsqrt"}.get(name, name)
    ours = getattr(cr, function)(cr.tensor([1, 2, 4]))
    theirs = getattr(torch, function)(torch.tensor([1, 2, 4]))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_float32_stays_float32():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    for y in (cr.log10(x), cr.atan2(x, x), cr.cumsum(x, 0), cr.cumprod(x, 0), cr.prod(x), cr.lerp(x, x, 0.5),
              cr.logcumsumexp(x, 0), cr.hypot(x, 1.0)):
        assert y.dtype == cr.float32
        y.sum().backward()
        assert x.grad.dtype == cr.float32


def test_integer_scans_and_products_give_int64_as_torch():
    torch = pytest.importorskip("torch")
    for name, args in (("cumsum", (0,)), ("cumprod", (0,)), ("prod", ())):
        for data in ([1, 2, 3], [True, False, True]):
            ours = getattr(cr, name)(cr.tensor(data), *args)
            theirs = getattr(torch, name)(torch.tensor(data), *args)
            assert ours.dtype == cr.int64 and theirs.dtype == torch.int64
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_no_gradient_functions_match_torch():
    torch = pytest.importorskip("torch")
    data = np.array([-2.5, -0.0, 0.0, 1.7, np.inf, -np.inf, np.nan, 3.0])
    other = np.array([-2.5, 0.0, 1e-9, 1.7000001, np.inf, np.inf, np.nan, 2.0])
    for name in ("trunc", "fix", "sgn", "signbit", "isinf", "isposinf", "isneginf", "isreal"):
        ours, theirs = getattr(cr, name)(cr.tensor(data)), getattr(torch, name)(torch.tensor(data))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 1e-8}):
        ours = cr.isclose(cr.tensor(data), cr.tensor(other), **kwargs)
        theirs = torch.isclose(torch.tensor(data), torch.tensor(other), **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    a, b = np.array([-7, -3, 5, 8]), np.array([3, 2, -3, 3])
    for name in ("remainder", "fmod", "floor_divide", "bitwise_xor"):
        ours = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    np.testing.assert_array_equal((cr.tensor(a) % 3).numpy(), (torch.tensor(a) % 3).numpy())
    np.testing.assert_array_equal((cr.tensor(a) // 3).numpy(), (torch.tensor(a) // 3).numpy())
    np.testing.assert_array_equal((7.5 // cr.tensor([2.0])).numpy(), (7.5 // torch.tensor([2.0])).numpy())
    np.testing.assert_array_equal((cr.tensor([True, False]) ^ cr.tensor([True, True])).numpy(), [False, True])
    np.testing.assert_array_equal(cr.logical_xor(cr.tensor([1, 0]), cr.tensor([1, 1])).numpy(), [False, True])
    np.testing.assert_array_equal(cr.tensor([1, 0]).bitwise_not().numpy(), [-2, -1])
    found = cr.isin(cr.tensor([1, 2, 3]), cr.tensor([2, 5]))
    np.testing.assert_array_equal(found.numpy(), [False, True, False])
    nan_inf = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    np.testing.assert_array_equal(cr.nan_to_num(cr.tensor(nan_inf)).numpy(),
                                  torch.nan_to_num(torch.tensor(nan_inf)).numpy())


def test_trunc_has_a_zero_gradient_and_frac_a_unit_one():
    x = cr.tensor([1.5, -2.5], dtype=cr.float64, requires_grad=True)
    (cr.trunc(x) * 3 + cr.frac(x)).sum().backward()   # PyTorch: TruncBackward gives zeros
    assert x.grad.tolist() == [1.0, 1.0] and not cr.sgn(x).requires_grad


def test_errors_name_the_op_and_shapes():
    x = cr.zeros(2, 3)
    with pytest.raises(cr.ShapeError, match=r"cumsum: dim 2 is out of range for a tensor of shape \(2, 3\)"):
        cr.cumsum(x, 2)
    with pytest.raises(cr.ShapeError, match=r"cummax: dim -3"):
        cr.cummax(x, -3)
    with pytest.raises(TypeError, match="prod: dim must be one integer"):
        cr.prod(x, (0, 1))
    with pytest.raises(cr.ShapeError, match=r"atan2: .*\(2, 3\) float32, \(4,\) float32"):
        cr.atan2(x, cr.zeros(4))
    with pytest.raises(cr.DTypeError, match=r"logcumsumexp: needs a floating-point tensor, got int64"):
        cr.logcumsumexp(cr.tensor([1, 2]), 0)
    with pytest.raises(cr.ShapeError, match="isclose: shapes"):
        cr.isclose(x, cr.zeros(4))
