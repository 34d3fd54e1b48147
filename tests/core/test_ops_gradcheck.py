"""Every op of the derivative table against float64 central differences, broadcasting included."""

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr

# (name, function, input shapes, keyword options for the leaves)
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5, 1), (1, 5))]

CASES = []
for a_shape, b_shape in BINARY_SHAPES:
    tag = f"{a_shape}x{b_shape}"
    CASES += [
        (f"add{tag}", lambda a, b: a + b, [a_shape, b_shape], {}),
        (f"sub{tag}", lambda a, b: a - b, [a_shape, b_shape], {}),
        (f"mul{tag}", lambda a, b: a * b, [a_shape, b_shape], {}),
        (f"div{tag}", lambda a, b: a / b, [a_shape, b_shape], {"positive": True}),
        (f"pow{tag}", lambda a, b: a ** b, [a_shape, b_shape], {"positive": True}),
        (f"maximum{tag}", cr.maximum, [a_shape, b_shape], {}),
        (f"minimum{tag}", cr.minimum, [a_shape, b_shape], {}),
        (f"where{tag}", lambda a, b: cr.where(a > 0, a, b), [a_shape, b_shape], {}),
    ]

CASES += [
    ("radd", lambda x: 2.0 + x, [(3,)], {}),
    ("rsub", lambda x: 2.0 - x, [(3,)], {}),
    ("rmul", lambda x: 2.0 * x, [(3,)], {}),
    ("rdiv", lambda x: 2.0 / x, [(3,)], {"positive": True}),
    ("rpow", lambda x: 2.0 ** x, [(3,)], {}),
    ("pow_scalar", lambda x: x ** 3, [(2, 3)], {}),
    ("pow_half", lambda x: x ** 0.5, [(2, 3)], {"positive": True}),
    ("pow_neg", lambda x: x ** -2, [(2, 3)], {"positive": True}),
    ("neg", lambda x: -x, [(2, 3)], {}),
    ("matmul_2d", lambda a, b: a @ b, [(3, 4), (4, 5)], {}),
    ("matmul_batched", lambda a, b: a @ b, [(2, 3, 4), (2, 4, 5)], {}),
    ("matmul_broadcast", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], {}),
    ("matmul_mv", lambda a, b: a @ b, [(3, 4), (4,)], {}),
    ("matmul_vm", lambda a, b: a @ b, [(4,), (4, 5)], {}),
    ("matmul_vv", lambda a, b: a @ b, [(4,), (4,)], {}),
    ("matmul_batched_vector", lambda a, b: a @ b, [(2, 3, 4), (4,)], {}),
    ("matmul_vector_batched", lambda a, b: a @ b, [(4,), (2, 4, 3)], {}),
    ("clamp", lambda x: x.clamp(-0.3, 0.4), [(4, 5)], {}),
    ("clamp_min", lambda x: x.clamp(min=0.1), [(4, 5)], {}),
    ("exp", cr.exp, [(3, 4)], {}),
    ("log", cr.log, [(3, 4)], {"positive": True}),
    ("log1p", cr.log1p, [(3, 4)], {"positive": True}),
    ("sqrt", cr.sqrt, [(3, 4)], {"positive": True}),
    ("abs", cr.abs, [(3, 4)], {}),
    ("sin", cr.sin, [(3, 4)], {}),
    ("cos", cr.cos, [(3, 4)], {}),
    ("erf", cr.erf, [(3, 4)], {}),
    ("relu", cr.relu, [(3, 4)], {}),
    ("leaky_relu", lambda x: cr.leaky_relu(x, 0.1), [(3, 4)], {}),
    ("sigmoid", cr.sigmoid, [(3, 4)], {"low": -8, "high": 8}),
    ("tanh", cr.tanh, [(3, 4)], {}),
    ("gelu", cr.gelu, [(3, 4)], {"low": -3, "high": 3}),
    ("gelu_tanh", lambda x: cr.gelu(x, approximate="tanh"), [(3, 4)], {"low": -3, "high": 3}),
    ("softplus", cr.softplus, [(3, 4)], {"low": -5, "high": 5}),
    ("softplus_beta", lambda x: cr.softplus(x, beta=2.0, threshold=3.0), [(3, 4)], {"low": -3, "high": 3}),
    ("softmax_last", lambda x: cr.softmax(x, -1), [(3, 4)], {}),
    ("softmax_first", lambda x: cr.softmax(x, 0), [(3, 4, 2)], {}),
    ("log_softmax", lambda x: cr.log_softmax(x, 1), [(3, 4)], {}),
    ("logsumexp_all", lambda x: cr.logsumexp(x), [(3, 4)], {}),
    ("logsumexp_dim", lambda x: cr.logsumexp(x, dim=1, keepdim=True), [(3, 4)], {}),
    ("sum_all", lambda x: x.sum(), [(3, 4)], {}),
    ("sum_dim", lambda x: x.sum(dim=0), [(3, 4)], {}),
    ("sum_dims_keep", lambda x: x.sum(axis=(0, 2), keepdims=True), [(2, 3, 4)], {}),
    ("mean_all", lambda x: x.mean(), [(3, 4)], {}),
    ("mean_dim", lambda x: x.mean(-1, keepdim=True), [(3, 4)], {}),
    ("max_all", lambda x: x.max(), [(3, 4)], {}),
    ("max_dim", lambda x: x.max(dim=1).values, [(3, 4)], {}),
    ("min_dim_keep", lambda x: x.min(0, keepdim=True)[0], [(3, 4)], {}),
    ("amax_dims", lambda x: x.amax(dim=(0, 1)), [(3, 4, 2)], {}),
    ("var_all", lambda x: x.var(), [(3, 4)], {}),
    ("var_dim_biased", lambda x: x.var(1, unbiased=False), [(3, 4)], {}),
    ("std_dim", lambda x: x.std(0, keepdim=True), [(3, 4)], {}),
    ("reshape", lambda x: x.reshape(4, -1), [(2, 3, 2)], {}),
    ("view_flatten", lambda x: x.view(-1), [(2, 3)], {}),
    ("flatten_part", lambda x: x.flatten(1), [(2, 3, 2)], {}),
    ("transpose", lambda x: x.transpose(0, 2), [(2, 3, 4)], {}),
    ("permute", lambda x: x.permute(2, 0, 1), [(2, 3, 4)], {}),
    ("T", lambda x: x.T, [(2, 3)], {}),
    ("squeeze", lambda x: x.squeeze(1), [(3, 1, 2)], {}),
    ("unsqueeze", lambda x: x.unsqueeze(-1), [(3, 2)], {}),
    ("expand", lambda x: x.expand(2, 3, 4), [(3, 1)], {}),
    ("broadcast_to", lambda x: cr.broadcast_to(x, (2, 3, 4)), [(4,)], {}),
    ("getitem_slice", lambda x: x[1:, ::2], [(4, 5)], {}),
    ("getitem_int", lambda x: x[2], [(4, 5)], {}),
    ("getitem_repeated", lambda x: x[[0, 2, 0, 0]], [(4, 5)], {}),
    ("getitem_pairs", lambda x: x[[0, 1, 1], [2, 2, 3]], [(4, 5)], {}),
    ("getitem_mask", lambda x: x[x > 0], [(4, 5)], {}),
    ("getitem_tensor_index", lambda x: x[cr.tensor([3, 3, 1])], [(4, 5)], {}),
    ("getitem_ellipsis_none", lambda x: x[..., None, 1], [(2, 3, 4)], {}),
    ("gather", lambda x: x.gather(1, cr.tensor([[0, 0], [1, 3], [2, 2]])), [(3, 4)], {}),
    ("cat", lambda a, b: cr.cat([a, b], dim=1), [(2, 3), (2, 5)], {}),
    ("cat_reuse", lambda a: cr.cat([a, a * 2, a], dim=0), [(2, 3)], {}),
    ("stack", lambda a, b: cr.stack([a, b], dim=1), [(2, 3), (2, 3)], {}),
    ("split", lambda x: x.split([1, 3], dim=1)[1] * x.split(2, dim=1)[0].sum(), [(2, 4)], {}),
    ("chunk", lambda x: x.chunk(2, 0)[1], [(4, 3)], {}),
    ("pad", lambda x: cr.pad(x, (1, 2, 0, 1), value=0.5), [(2, 3)], {}),
    ("masked_fill", lambda x: x.masked_fill(x < 0, 0.0), [(3, 4)], {}),
    ("cast_roundtrip", lambda x: x.float().double() * 1.0, [(3,)], {}),
    ("clone", lambda x: x.clone() * x, [(3,)], {}),
]


@pytest.mark.parametrize("name,function,shapes,options", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, function, shapes, options):
    inputs = [leaf(*shape, seed=i, **options) for i, shape in enumerate(shapes)]
    if name == "cast_roundtrip":  # float32 round trip: only the path, not the precision, is checked
        assert cr.gradcheck(function, inputs, eps=1e-3, atol=1e-3, rtol=1e-2)
    else:
        assert cr.gradcheck(function, inputs)


SECOND_ORDER = [
    ("cube", lambda x: (x ** 3).sum(), (3,)),
    ("tanh_sigmoid", lambda x: (x.tanh() * x.sigmoid()).sum(), (2, 3)),
    ("softmax", lambda x: (x.softmax(-1) * x).sum(), (2, 3)),
    ("log_softmax", lambda x: (x.log_softmax(0) ** 2).sum(), (3, 2)),
    ("matmul", lambda x: ((x @ x.T) ** 2).sum(), (2, 3)),
    ("indexing", lambda x: (x[[0, 0, 1]] ** 3).sum(), (2, 3)),
    ("max_dim", lambda x: (x.max(1).values ** 2).sum(), (3, 4)),
    ("var", lambda x: (x.var(1) ** 2).sum(), (3, 4)),
    ("gelu_erf", lambda x: (x.gelu() * x).sum(), (3,)),
    ("logsumexp", lambda x: cr.logsumexp(x * x, dim=1).sum(), (2, 3)),
    ("broadcast", lambda x: ((x + x.sum(0)) ** 2).sum(), (2, 3)),
    ("div_pow", lambda x: (x / (x * x + 1)).sum(), (4,)),
    ("cat_pad", lambda x: (cr.pad(cr.cat([x, x * x], 0), (1, 1)) ** 2).sum(), (2, 2)),
]


@pytest.mark.parametrize("name,function,shape", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_order_gradcheck(name, function, shape):
    """The gradient itself (recorded with create_graph=True) passes gradcheck: Hessian-vector products."""
    x = leaf(*shape, low=0.2, high=1.2, seed=7)

    def gradient(x):
        return cr.grad(function(x), x, create_graph=True)[0]

    assert cr.gradcheck(gradient, [x])


def test_gradcheck_reports_input_and_index():
    from chainrule.insight.gradcheck import GradcheckError

    x = leaf(3)
    with pytest.raises(GradcheckError, match=r"input 0 .*index \("):  # detach hides half the gradient
        cr.gradcheck(lambda t: t * t.detach(), [x])


def test_gradcheck_needs_float64():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AssertionError, match="float64"):
        cr.gradcheck(lambda t: t * 2, [x])


def test_ties_split_like_pytorch():
    x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5])
    y = cr.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    y.max(dim=1).values.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[0, 1, 0]])
    a, b = cr.tensor([2.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    cr.maximum(a, b).backward()
    assert a.grad.item() == 0.5 and b.grad.item() == 0.5
