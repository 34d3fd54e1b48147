"""Max / average / adaptive pooling and their layers: values, indices and gradients against PyTorch
(float64, ties included), finite differences, gradients of gradients, dtype policy, errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.ops import pooling as P

torch = pytest.importorskip("torch")
TF = torch.nn.functional

MAX_CASES = [
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),                                   # W4's pool
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=2)),                                   # odd: edge dropped
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (1, 2, 9, 8), dict(kernel_size=(3, 2), stride=1, dilation=2)),
    ("max_pool2d", (3, 9, 8), dict(kernel_size=2, stride=(1, 2))),                       # unbatched
    ("max_pool2d", (2, 2, 6, 6), dict(kernel_size=3, stride=1, padding=1)),              # overlapping
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool1d", (2, 3, 10), dict(kernel_size=2)),
]

AVG_CASES = [
    ("avg_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), divisor_override=5)),
    ("avg_pool2d", (3, 6, 5), dict(kernel_size=2, stride=1)),
    ("avg_pool1d", (2, 3, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                                    count_include_pad=False)),
    ("adaptive_avg_pool2d", (2, 3, 7, 8), dict(output_size=(3, 5))),
    ("adaptive_avg_pool2d", (2, 3, 6, 6), dict(output_size=1)),
    ("adaptive_avg_pool1d", (2, 3, 7), dict(output_size=3)),
]


def _compare(name, shape, kwargs, data):
    xs = cr.tensor(data, dtype=cr.float64, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    y, yt = getattr(P, name)(xs, **kwargs), getattr(TF, name)(xt, **kwargs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(7).standard_normal(y.shape)
    (y * cr.tensor(upstream, dtype=cr.float64)).sum().backward()
    (yt * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, shape, kwargs", MAX_CASES + AVG_CASES)
def test_pooling_matches_torch(name, shape, kwargs):
    _compare(name, shape, kwargs, np.random.default_rng(0).standard_normal(shape))


@pytest.mark.parametrize("name, shape, kwargs", MAX_CASES)
def test_max_pool_ties_and_indices_match_torch(name, shape, kwargs):
    """Many equal values per window (as after a ReLU): all of g goes to the first maximum only."""
    data = np.maximum(np.round(np.random.default_rng(1).standard_normal(shape)), 0.0)
    _compare(name, shape, kwargs, data)
    y, indices = getattr(P, name)(cr.tensor(data), return_indices=True, **kwargs)
    _, expected = getattr(TF, name)(torch.tensor(data), return_indices=True, **kwargs)
    assert indices.dtype == cr.int64
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


def _distinct(*shape):
    """Values all different (no ties, so max pooling is differentiable for finite differences)."""
    size = int(np.prod(shape))
    values = np.random.default_rng(2).permutation(size) / size + 0.1
    return cr.tensor(values.reshape(shape), dtype=cr.float64, requires_grad=True)


@pytest.mark.parametrize("name, shape, kwargs", [MAX_CASES[2], MAX_CASES[5], MAX_CASES[6], AVG_CASES[2],
                                                 AVG_CASES[5], AVG_CASES[6]])
def test_pooling_gradcheck(name, shape, kwargs):
    assert cr.gradcheck(lambda x: getattr(P, name)(x, **kwargs), [_distinct(*shape)])


@pytest.mark.parametrize("name, kwargs", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("max_pool1d", dict(kernel_size=3, stride=1)),
    ("avg_pool1d", dict(kernel_size=3, stride=2)),
])
def test_pooling_double_backward(name, kwargs):
    shape = (2, 2, 6, 7) if name.endswith("2d") else (2, 2, 7)

    def second_order(grad, function, x):
        y = function(x, **kwargs)
        (gx,) = grad((y * y * y).sum(), [x], create_graph=True)
        return (gx * gx).sum()

    xs = _distinct(*shape)
    xt = torch.tensor(xs.numpy(), requires_grad=True)
    second_order(cr.grad, getattr(P, name), xs).backward()
    second_order(torch.autograd.grad, getattr(TF, name), xt).backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert cr.gradcheck(lambda x: second_order(cr.grad, getattr(P, name), x), [_distinct(*shape)])


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(3, 2, 1), nn.AdaptiveAvgPool2d((2, 3))])
def test_float32_stays_float32(layer):
    x = cr.randn(2, 3, 8, 8, requires_grad=True)
    y = layer(x)
    assert y.dtype == cr.float32
    y.sum().backward()
    assert x.grad.dtype == cr.float32


@pytest.mark.parametrize("layer, reference", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    (nn.MaxPool1d(3), torch.nn.MaxPool1d(3)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d((2, 3), padding=1), torch.nn.AvgPool2d((2, 3), padding=1)),
    (nn.AvgPool1d(3, 2), torch.nn.AvgPool1d(3, 2)),
    (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    (nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4)),
])
def test_layers_match_torch(layer, reference):
    assert repr(layer) == repr(reference)
    one_d = isinstance(layer, (nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d))
    data = np.random.default_rng(3).standard_normal((2, 3, 9) if one_d else (2, 3, 9, 10))
    np.testing.assert_allclose(layer(cr.tensor(data, dtype=cr.float64)).numpy(),
                               reference(torch.tensor(data)).numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_layer_return_indices():
    y, indices = nn.MaxPool2d(2, return_indices=True)(cr.randn(1, 2, 4, 4))
    assert y.shape == indices.shape == (1, 2, 2, 2)


def test_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half"):
        P.max_pool2d(cr.randn(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(cr.ShapeError, match=r"max_pool2d: input of shape \(1, 1, 2, 2\) is too small"):
        P.max_pool2d(cr.randn(1, 1, 2, 2), 3)
    with pytest.raises(cr.ShapeError, match="avg_pool2d: input must be 3-D .* or 4-D"):
        P.avg_pool2d(cr.randn(8, 8), 2)
    with pytest.raises(cr.ShapeError, match="kernel_size"):
        P.max_pool2d(cr.randn(1, 1, 8, 8), (2, 2, 2))
